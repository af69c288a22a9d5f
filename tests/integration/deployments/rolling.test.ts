/**
 * Deployments through a real controller (embedded store, gRPC over mTLS, its own lifecycle) and
 * simulated daemons: a rolling restart of a STATIC group, template pins reaching the plans, the one-
 * deployment-per-group rule, knob validation codes, pause at a boundary, resume, and rollback; an old
 * instance holding a player is drained (its player queued for a RUNNING instance) before it stops.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { waitFor } from "../../support/wait.ts";
import { customGroup, type Fleet, startFleet } from "../scheduler/fleet-harness.ts";
import { WorkloadClient } from "../workload/workload-harness.ts";

interface Deployment {
  revision: number;
  state: string;
  trigger: string;
  updatedInstances: number;
  totalInstances: number;
  templateSnapshot: Record<string, { hash: string; version: string }>;
  waves: Array<{
    index: number;
    kind: string;
    verdict: string;
    replaced: Array<{ old: string; new: string | null }>;
  }>;
  rollbackOf: number | null;
}
interface Instance {
  id: string;
  state: string;
  deploymentRevision: number;
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
  const body = await json<{ data: Instance[] }>(
    await fleet.api("GET", `/api/v1/services?group=${group}&pageSize=500`),
  );
  return body.data;
}

async function deployment(group: string, rev: number): Promise<Deployment> {
  return json<Deployment>(await fleet.api("GET", `/api/v1/groups/${group}/deployments/${rev}`));
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

async function client(instanceId: string, group: string, prefix: "/api/plugin" | "/api/proxy") {
  const token = await fleet.controller.instances.auth.tokens.mint({ instanceId, group });
  return new WorkloadClient(`http://127.0.0.1:${fleet.controller.httpPort}`, prefix, token);
}

describe("deployments over a real controller", () => {
  test("rolling: an old instance with a player is DRAINING, its player queued for a RUNNING one, then stops", async () => {
    await groupOf("rdp", 2);
    const old = (await instances("rdp")).map((i) => i.id).sort();
    const proxy = await client("rdpproxy-1", "rdpproxy", "/api/proxy");
    const onOld = await client(old[0]!, "rdp", "/api/plugin");
    const player = crypto.randomUUID();
    expect((await proxy.post("/player-join", { uuid: player, name: "Mover" })).status).toBe(200);
    expect((await onOld.post("/player-join", { uuid: player, name: "Mover" })).status).toBe(200);
    const res = await fleet.api("POST", "/api/v1/groups/rdp/restart", { drainTimeoutSeconds: 600 });
    expect(res.status).toBe(202);
    const { revision } = await json<Deployment>(res);

    // The 600 s deadline is far off: only the player moving lets the old instance stop.
    let sawDraining = false;
    let transfer: { targetInstanceId: string } | undefined;
    const end = await waitFor(
      async () => {
        const [list, d] = await Promise.all([instances("rdp"), deployment("rdp", revision)]);
        const first = list.find((i) => i.id === old[0]);
        if (first?.state === "DRAINING") sawDraining = true;
        if (transfer === undefined && sawDraining) {
          const pending = await json<{ data: Array<{ playerUuid: string; targetInstanceId: string }> }>(
            await proxy.get("/pending-transfers"),
          );
          transfer = pending.data.find((t) => t.playerUuid === player);
          if (transfer !== undefined) {
            const target = list.find((i) => i.id === transfer!.targetInstanceId);
            expect(target?.state).toBe("RUNNING");
            // moved once: onto an instance already at the new revision, not another old one
            expect(target?.deploymentRevision).toBe(revision);
            // What the proxy does: connect the player to the target, ack; the target sees the join.
            const onTarget = await client(transfer.targetInstanceId, "rdp", "/api/plugin");
            expect((await onTarget.post("/player-join", { uuid: player, name: "Mover" })).status).toBe(200);
            expect((await proxy.post(`/transfer-ack/${player}`)).status).toBeLessThan(300);
          }
        }
        return d.state === "IN_PROGRESS" ? undefined : d;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: "the rolling restart with a player to end" },
    );
    expect(end.state).toBe("COMPLETED");
    expect(sawDraining).toBe(true);
    expect(transfer).toBeDefined();
    const after = await instances("rdp");
    expect(after.find((i) => i.id === old[0])?.state ?? "gone").not.toBe("RUNNING");
    const live = after.filter((i) => i.state === "RUNNING");
    expect(live.length).toBe(2);
    expect(live.every((i) => i.deploymentRevision === revision)).toBe(true);
  }, 90_000);

  test("rolling restart of a STATIC group of 4: RUNNING never below 4, every instance replaced once", async () => {
    await groupOf("roll", 4);
    const before = (await instances("roll")).map((i) => i.id).sort();
    const startsBefore = fleet.daemons.reduce((n, d) => n + d.starts, 0);
    const res = await fleet.api("POST", "/api/v1/groups/roll/restart", { batchSize: 1, maxUnavailable: 0 });
    expect(res.status).toBe(202);
    const created = await json<Deployment>(res);
    expect(created).toMatchObject({
      revision: 1,
      state: "IN_PROGRESS",
      trigger: "restart",
      totalInstances: 4,
    });

    // A second deployment of the same group while this one runs is refused.
    const again = await fleet.api("POST", "/api/v1/groups/roll/deploy", {});
    expect(again.status).toBe(409);
    expect((await json<{ error: { code: string } }>(again)).error.code).toBe("CONFLICT");

    let minRunning = Number.POSITIVE_INFINITY;
    const end = await waitFor(
      async () => {
        const list = await instances("roll");
        minRunning = Math.min(minRunning, list.filter((i) => i.state === "RUNNING").length);
        const d = await deployment("roll", 1);
        return d.state === "COMPLETED" ? d : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: "restart r1 COMPLETED" },
    );
    expect(minRunning).toBeGreaterThanOrEqual(4);
    expect(end.updatedInstances).toBe(4);
    expect(end.waves.length).toBe(4);
    expect(end.waves.every((w) => w.verdict === "passed" && w.replaced.length === 1)).toBe(true);
    const after = await instances("roll");
    const live = after.filter((i) => i.state === "RUNNING");
    expect(live.length).toBe(4);
    expect(live.every((i) => i.deploymentRevision === 1)).toBe(true);
    // STATIC names come back (a stopped instance frees its ID), but never for the instance it replaced.
    for (const w of end.waves) for (const r of w.replaced) expect(r.new).not.toBe(r.old);
    // Exactly one new process per replaced instance: nothing was started twice.
    expect(fleet.daemons.reduce((n, d) => n + d.starts, 0) - startsBefore).toBe(4);
    const replacedOld = end.waves.flatMap((w) => w.replaced.map((r) => r.old)).sort();
    expect(replacedOld).toEqual(before);
  }, 90_000);

  test("knob validation answers the spec's codes", async () => {
    await groupOf("knobs", 1);
    const code = async (body: unknown) => {
      const res = await fleet.api("POST", "/api/v1/groups/knobs/deploy", body);
      return `${res.status} ${(await json<{ error?: { code: string } }>(res)).error?.code}`;
    };
    expect(await code({ batchSize: 0 })).toBe("400 BAD_REQUEST");
    expect(await code({ canaryPercent: 120 })).toBe("400 BAD_REQUEST");
    expect(await code({ canaryInstances: 1, canaryPercent: 10 })).toBe("400 BAD_REQUEST");
    expect(await code({ promotionTimeoutSeconds: 0 })).toBe("400 BAD_REQUEST");
    expect(await code({ minHealthySeconds: -1 })).toBe("400 BAD_REQUEST");
    expect(await code({ maxUnavailable: 0, maxSurge: 0 })).toBe("422 VALIDATION_ERROR");
    expect(await code({ templates: { nosuch: "v1" } })).toBe("422 VALIDATION_ERROR");
    expect(await code({ strategy: "SIDEWAYS" })).toMatch(/^4(00|22) /);
    expect(await code({ strategy: "BLUE_GREEN", batchSize: 0 })).toBe("400 BAD_REQUEST");
    const missing = await fleet.api("POST", "/api/v1/groups/nosuchgroup/deploy", {});
    expect(missing.status).toBe(404);
    const noRev = await fleet.api("GET", "/api/v1/groups/knobs/deployments/99");
    expect(noRev.status).toBe(404);
    const list = await json<{ data: Deployment[]; total: number }>(
      await fleet.api("GET", "/api/v1/groups/knobs/deployments"),
    );
    expect(list.total).toBe(0);
  }, 60_000);

  test("pause holds at a wave boundary for several ticks; resume completes; rollback restores", async () => {
    await groupOf("hold", 3);
    const res = await fleet.api("POST", "/api/v1/groups/hold/restart", { batchSize: 1 });
    expect(res.status).toBe(202);
    const paused = await fleet.api("POST", "/api/v1/groups/hold/deployments/1/pause");
    expect(paused.status).toBe(200);
    expect((await json<Deployment>(paused)).state).toBe("PAUSED");
    // The wave in flight finishes, its old instances' stops included (on a busy box the last stop
    // can still be on its way when the verdict is written); after that nothing more moves.
    await waitFor(
      async () => {
        const waves = (await deployment("hold", 1)).waves;
        return (
          waves.every((w) => w.verdict !== "pending") &&
          waves.every((w) => w.replaced.every((r) => fleet.daemons.some((d) => d.stopReasons.has(r.old))))
        );
      },
      { timeoutMs: 20_000, what: "the open wave closed and its old instances stopped" },
    );
    const stopsAtBoundary = fleet.daemons.reduce((n, d) => n + d.stopReasons.size, 0);
    const startsAtBoundary = fleet.daemons.reduce((n, d) => n + d.starts, 0);
    const tickAt = async () =>
      (await json<{ lastTick?: { at: string } }>(await fleet.api("GET", "/api/v1/scheduler"))).lastTick?.at;
    const first = await tickAt();
    let ticks = 0;
    let last = first;
    await waitFor(
      async () => {
        const at = await tickAt();
        if (at !== last) {
          ticks++;
          last = at;
        }
        return ticks >= 3;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: "three scheduler ticks while paused" },
    );
    expect(fleet.daemons.reduce((n, d) => n + d.stopReasons.size, 0)).toBe(stopsAtBoundary);
    expect(fleet.daemons.reduce((n, d) => n + d.starts, 0)).toBe(startsAtBoundary);
    expect((await deployment("hold", 1)).state).toBe("PAUSED");
    // pausing twice is a conflict
    expect((await fleet.api("POST", "/api/v1/groups/hold/deployments/1/pause")).status).toBe(409);

    expect((await fleet.api("POST", "/api/v1/groups/hold/deployments/1/resume")).status).toBe(200);
    await waitFor(async () => (await deployment("hold", 1)).state === "COMPLETED", {
      timeoutMs: 30_000,
      what: "resumed r1 COMPLETED",
    });

    const rb = await fleet.api("POST", "/api/v1/groups/hold/deployments/1/rollback");
    expect(rb.status).toBe(202);
    const rollback = await json<Deployment>(rb);
    expect(rollback).toMatchObject({ revision: 2, trigger: "rollback", rollbackOf: 1 });
    await waitFor(async () => (await deployment("hold", 2)).state === "COMPLETED", {
      timeoutMs: 30_000,
      what: "rollback r2 COMPLETED",
    });
    const live = (await instances("hold")).filter((i) => i.state === "RUNNING");
    expect(live.length).toBe(3);
    expect(live.every((i) => i.deploymentRevision === 2)).toBe(true);
    const page = await json<{ data: Deployment[]; total: number; pageSize: number }>(
      await fleet.api("GET", "/api/v1/groups/hold/deployments?page=1&pageSize=1"),
    );
    expect(page.total).toBe(2);
    expect(page.data.map((d) => d.revision)).toEqual([2]);
  }, 120_000);
});
