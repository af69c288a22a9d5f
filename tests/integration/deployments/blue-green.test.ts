/**
 * BLUE_GREEN through a real controller (embedded store, gRPC over mTLS, its own scheduler) and
 * simulated daemons: the green set starts beside blue, the placement answer (`/api/plugin/instances`)
 * moves to green at the switch, blue's player is queued for transfer to green through its proxy, blue
 * drains and stops once the player left, and at no 100 ms sample is the group without a RUNNING
 * instance the answer lists.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { waitFor } from "../../support/wait.ts";
import { customGroup, type Fleet, startFleet } from "../scheduler/fleet-harness.ts";
import { WorkloadClient } from "../workload/workload-harness.ts";

interface Instance {
  id: string;
  state: string;
  deploymentRevision: number;
}
interface Deployment {
  revision: number;
  state: string;
  strategy: string;
  routing?: string;
  reason: string;
}

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ daemons: 2, nodeMemoryMb: 16_384, intervalSeconds: 1 });
});
afterAll(async () => {
  await fleet?.stop();
  if (fleet) rmSync(fleet.root, { recursive: true, force: true });
});

async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`not JSON (${res.status}): ${text}`);
  }
}

async function instances(group: string): Promise<Instance[]> {
  return (
    await json<{ data: Instance[] }>(await fleet.api("GET", `/api/v1/services?group=${group}&pageSize=500`))
  ).data;
}

async function client(instanceId: string, group: string, prefix: "/api/plugin" | "/api/proxy") {
  const token = await fleet.controller.instances.auth.tokens.mint({ instanceId, group });
  return new WorkloadClient(`http://127.0.0.1:${fleet.controller.httpPort}`, prefix, token);
}

async function groupOf(name: string, count: number): Promise<void> {
  const res = await fleet.api(
    "POST",
    "/api/v1/groups",
    customGroup(name, { scalingMode: "STATIC", minInstances: count, maxInstances: count, memoryMb: 256 }),
  );
  expect(res.status).toBe(201);
  await waitFor(async () => (await instances(name)).filter((i) => i.state === "RUNNING").length === count, {
    timeoutMs: 20_000,
    what: `${count} ${name} instances RUNNING`,
  });
}

/** The placement answer for one group, as a proxy reads it. */
function answerOf(proxy: WorkloadClient, group: string): () => Promise<string[]> {
  return async () => {
    const res = await proxy.get("/instances");
    if (res.status !== 200)
      throw new Error(`/api/proxy/instances answered ${res.status}: ${await res.text()}`);
    return (await json<{ data: Array<{ id: string; group: string }> }>(res)).data
      .filter((i) => i.group === group)
      .map((i) => i.id)
      .sort();
  };
}

describe("BLUE_GREEN over a real controller", () => {
  test("green beside blue, the answer switches, blue's player is queued for green, blue stops", async () => {
    const res = await fleet.api(
      "POST",
      "/api/v1/groups",
      customGroup("bg", { scalingMode: "STATIC", minInstances: 2, maxInstances: 2, memoryMb: 256 }),
    );
    expect(res.status).toBe(201);
    await waitFor(async () => (await instances("bg")).filter((i) => i.state === "RUNNING").length === 2, {
      timeoutMs: 20_000,
      what: "2 bg instances RUNNING",
    });
    const blue = (await instances("bg")).map((i) => i.id).sort();
    const proxy = await client("bgproxy-1", "bgproxy", "/api/proxy");
    const onBlue = await client(blue[0]!, "bg", "/api/plugin");
    const player = crypto.randomUUID();
    expect((await proxy.post("/player-join", { uuid: player, name: "Blue" })).status).toBe(200);
    expect((await onBlue.post("/player-join", { uuid: player, name: "Blue" })).status).toBe(200);
    const answer = async () => {
      const res = await proxy.get("/instances");
      if (res.status !== 200)
        throw new Error(`/api/proxy/instances answered ${res.status}: ${await res.text()}`);
      return (await json<{ data: Array<{ id: string; group: string }> }>(res)).data
        .filter((i) => i.group === "bg")
        .map((i) => i.id)
        .sort();
    };
    expect(await answer()).toEqual(blue);

    const deploy = await fleet.api("POST", "/api/v1/groups/bg/deploy", {
      strategy: "BLUE_GREEN",
      healthGateEnabled: true,
      minHealthySeconds: 2,
    });
    expect(deploy.status).toBe(202);
    const { revision } = await json<Deployment>(deploy);

    // Sampled every 100 ms until the end: the answer always names a RUNNING instance, and never both sides.
    const breaches: string[] = [];
    let greenSeenBeforeSwitch = false;
    let transfer: { targetInstanceId: string } | undefined;
    let moved = false;
    const end = await waitFor(
      async () => {
        const [list, listed, d] = await Promise.all([
          instances("bg"),
          answer(),
          json<Deployment>(await fleet.api("GET", `/api/v1/groups/bg/deployments/${revision}`)),
        ]);
        const state = new Map(list.map((i) => [i.id, i]));
        const running = listed.filter((id) => state.get(id)?.state === "RUNNING");
        if (running.length === 0)
          breaches.push(`no RUNNING instance in the answer ${JSON.stringify(listed)}`);
        const revs = new Set(
          listed.map((id) => (state.get(id)?.deploymentRevision === revision ? "g" : "b")),
        );
        if (revs.size > 1) breaches.push(`answer mixes blue and green: ${listed}`);
        if (
          d.routing === "blue" &&
          list.some((i) => i.deploymentRevision === revision && i.state === "RUNNING")
        )
          greenSeenBeforeSwitch = true;
        if (transfer === undefined) {
          const pending = await json<{ data: Array<{ playerUuid: string; targetInstanceId: string }> }>(
            await proxy.get("/pending-transfers"),
          );
          transfer = pending.data.find((t) => t.playerUuid === player);
        }
        if (transfer !== undefined && !moved) {
          // What the proxy does: connect the player to the target, ack; the green server sees the join.
          const onGreen = await client(transfer.targetInstanceId, "bg", "/api/plugin");
          expect((await onGreen.post("/player-join", { uuid: player, name: "Blue" })).status).toBe(200);
          expect((await proxy.post(`/transfer-ack/${player}`)).status).toBeLessThan(300);
          moved = true;
        }
        return d.state === "COMPLETED" || d.state === "FAILED" || d.state === "ROLLED_BACK" ? d : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100, what: "BLUE_GREEN r1 ended" },
    );
    expect(breaches).toEqual([]);
    expect(end).toMatchObject({ state: "COMPLETED", strategy: "BLUE_GREEN", routing: "green" });
    expect(greenSeenBeforeSwitch).toBe(true);
    expect(transfer).toBeDefined();
    const after = await instances("bg");
    const live = after.filter((i) => i.state === "RUNNING");
    expect(live.length).toBe(2);
    expect(live.every((i) => i.deploymentRevision === revision)).toBe(true);
    expect(transfer!.targetInstanceId).toBeOneOf(live.map((i) => i.id));
    for (const id of blue) expect(after.find((i) => i.id === id)?.state ?? "gone").not.toBe("RUNNING");
    expect(await answer()).toEqual(live.map((i) => i.id).sort());
  }, 120_000);

  test("rollback after the switch: blue (still holding its player) is undrained, routing goes back, green stops", async () => {
    await groupOf("bgb", 2);
    const blue = (await instances("bgb")).map((i) => i.id).sort();
    const proxy = await client("bgbproxy-1", "bgbproxy", "/api/proxy");
    const onBlue = await client(blue[0]!, "bgb", "/api/plugin");
    const player = crypto.randomUUID();
    expect((await proxy.post("/player-join", { uuid: player, name: "Stays" })).status).toBe(200);
    expect((await onBlue.post("/player-join", { uuid: player, name: "Stays" })).status).toBe(200);
    const answer = answerOf(proxy, "bgb");
    const deploy = await fleet.api("POST", "/api/v1/groups/bgb/deploy", { strategy: "BLUE_GREEN" });
    expect(deploy.status).toBe(202);
    const { revision } = await json<Deployment>(deploy);
    // Switched, and blue-1 drains with its player (the 60 s deadline is far away).
    await waitFor(
      async () => {
        const d = await json<Deployment>(
          await fleet.api("GET", `/api/v1/groups/bgb/deployments/${revision}`),
        );
        const b = (await instances("bgb")).find((i) => i.id === blue[0]);
        return d.routing === "green" && b?.state === "DRAINING";
      },
      { timeoutMs: 30_000, intervalMs: 100, what: "routing on green with blue-1 DRAINING" },
    );
    const breaches: string[] = [];
    const rolled = await fleet.api("POST", `/api/v1/groups/bgb/deployments/${revision}/rollback`);
    expect(rolled.status).toBe(202);
    const end = await waitFor(
      async () => {
        const [list, listed, d] = await Promise.all([
          instances("bgb"),
          answer(),
          json<Deployment>(await fleet.api("GET", `/api/v1/groups/bgb/deployments/${revision}`)),
        ]);
        const state = new Map(list.map((i) => [i.id, i.state]));
        if (!listed.some((id) => state.get(id) === "RUNNING"))
          breaches.push(`no RUNNING instance in ${listed}`);
        return d.state === "IN_PROGRESS" ? undefined : d;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: "the BLUE_GREEN rollback to end" },
    );
    expect(breaches).toEqual([]);
    expect(end).toMatchObject({ state: "ROLLED_BACK", routing: "blue" });
    const after = await instances("bgb");
    expect(
      after
        .filter((i) => i.state === "RUNNING")
        .map((i) => i.id)
        .sort(),
    ).toEqual(blue);
    expect(after.filter((i) => i.deploymentRevision === revision && i.state === "RUNNING")).toEqual([]);
    expect(await answer()).toEqual(blue);
  }, 60_000);

  test("drainTimeoutSeconds: blue holding a player that never leaves is stopped at the deadline, not after 60 s", async () => {
    await groupOf("bgd", 1);
    const [blue] = (await instances("bgd")).map((i) => i.id);
    const proxy = await client("bgdproxy-1", "bgdproxy", "/api/proxy");
    const onBlue = await client(blue!, "bgd", "/api/plugin");
    const player = crypto.randomUUID();
    expect((await proxy.post("/player-join", { uuid: player, name: "Stays" })).status).toBe(200);
    expect((await onBlue.post("/player-join", { uuid: player, name: "Stays" })).status).toBe(200);
    const bad = await fleet.api("POST", "/api/v1/groups/bgd/deploy", {
      strategy: "BLUE_GREEN",
      drainTimeoutSeconds: 0,
    });
    expect(bad.status).toBe(400);
    expect((await json<{ error: { code: string } }>(bad)).error.code).toBe("BAD_REQUEST");
    const deploy = await fleet.api("POST", "/api/v1/groups/bgd/deploy", {
      strategy: "BLUE_GREEN",
      drainTimeoutSeconds: 2,
    });
    expect(deploy.status).toBe(202);
    const created = await json<Deployment & { configSnapshot: { drainTimeoutSeconds: number } }>(deploy);
    expect(created.configSnapshot.drainTimeoutSeconds).toBe(2);
    // The player never moves: only the 2 s deadline can end blue. The 60 s default would outlast
    // this wait by far.
    const end = await waitFor(
      async () => {
        const d = await json<Deployment>(
          await fleet.api("GET", `/api/v1/groups/bgd/deployments/${created.revision}`),
        );
        return d.state === "IN_PROGRESS" ? undefined : d;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: "BLUE_GREEN with a 2 s drain deadline to end" },
    );
    expect(end).toMatchObject({ state: "COMPLETED", routing: "green" });
    await waitFor(
      async () => {
        const state = (await instances("bgd")).find((i) => i.id === blue)?.state ?? "gone";
        return state !== "RUNNING" && state !== "DRAINING";
      },
      { timeoutMs: 10_000, what: "blue stopped with its player still on it" },
    );
  }, 60_000);

  test("rollback before the switch stops green and leaves blue and routing alone", async () => {
    await groupOf("bgc", 2);
    const blue = (await instances("bgc")).map((i) => i.id).sort();
    const proxy = await client("bgcproxy-1", "bgcproxy", "/api/proxy");
    const answer = answerOf(proxy, "bgc");
    const deploy = await fleet.api("POST", "/api/v1/groups/bgc/deploy", {
      strategy: "BLUE_GREEN",
      healthGateEnabled: true,
      minHealthySeconds: 600,
      promotionTimeoutSeconds: 600,
    });
    expect(deploy.status).toBe(202);
    const { revision } = await json<Deployment>(deploy);
    await waitFor(
      async () =>
        (await instances("bgc")).filter((i) => i.deploymentRevision === revision && i.state === "RUNNING")
          .length === 2,
      { timeoutMs: 20_000, what: "green RUNNING beside blue" },
    );
    expect(await answer()).toEqual(blue);
    expect((await fleet.api("POST", `/api/v1/groups/bgc/deployments/${revision}/rollback`)).status).toBe(202);
    const end = await waitFor(
      async () => {
        const d = await json<Deployment>(
          await fleet.api("GET", `/api/v1/groups/bgc/deployments/${revision}`),
        );
        return d.state === "IN_PROGRESS" ? undefined : d;
      },
      { timeoutMs: 20_000, what: "the rollback to end" },
    );
    expect(end).toMatchObject({ state: "ROLLED_BACK", routing: "blue" });
    await waitFor(
      async () =>
        (await instances("bgc")).filter((i) => i.deploymentRevision === revision && i.state === "RUNNING")
          .length === 0,
      { timeoutMs: 20_000, what: "green stopped" },
    );
    const after = await instances("bgc");
    expect(
      after
        .filter((i) => i.state === "RUNNING")
        .map((i) => i.id)
        .sort(),
    ).toEqual(blue);
    expect(await answer()).toEqual(blue);
  }, 60_000);
});
