/**
 * Deployments meeting other workflows, over a real controller and simulated daemons: a node drain
 * started in the middle of a rolling restart (the drain wins on its node's instances; every old
 * instance is replaced exactly once and the node ends empty), and a deployment whose group is deleted
 * (the cluster's deployment reconciler ends it FAILED), and a canary whose plugin reports TPS under
 * the gate's floor (rolled back).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { InstanceMetrics } from "../../../src/controller/workload/instance-metrics.ts";
import { waitFor } from "../../support/wait.ts";
import { customGroup, type Fleet, startFleet } from "../scheduler/fleet-harness.ts";

interface Instance {
  id: string;
  state: string;
  nodeId: string;
  deploymentRevision: number;
}

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({
    daemons: 3,
    nodeMemoryMb: 16_384,
    intervalSeconds: 1,
    nodeIds: ["dd-a", "dd-b", "dd-c"],
  });
});
afterAll(async () => {
  await fleet?.stop();
  if (fleet) rmSync(fleet.root, { recursive: true, force: true });
});

const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;
const services = async (group: string) =>
  (await json<{ data: Instance[] }>(await fleet.api("GET", `/api/v1/services?group=${group}&pageSize=500`)))
    .data;
const deployment = async (group: string, rev: number) =>
  json<{ state: string; reason: string; waves: Array<{ verdict: string }> }>(
    await fleet.api("GET", `/api/v1/groups/${group}/deployments/${rev}`),
  );

describe("deployments and other workflows", () => {
  test("a node drain during a rolling restart: each old instance replaced once, the node ends empty", async () => {
    const created = await fleet.api(
      "POST",
      "/api/v1/groups",
      customGroup("mix", { scalingMode: "STATIC", minInstances: 6, maxInstances: 6, memoryMb: 128 }),
    );
    expect(created.status).toBe(201);
    await waitFor(async () => (await services("mix")).filter((i) => i.state === "RUNNING").length === 6, {
      timeoutMs: 20_000,
      what: "6 mix instances RUNNING",
    });
    const startsBefore = fleet.daemons.reduce((n, d) => n + d.starts, 0);
    // A gate keeps each wave open a moment, so the drain lands in the middle of the rollout.
    const res = await fleet.api("POST", "/api/v1/groups/mix/restart", {
      batchSize: 1,
      healthGateEnabled: true,
      minHealthySeconds: 1,
    });
    expect(res.status).toBe(202);
    await waitFor(async () => (await deployment("mix", 1)).waves.length >= 1, { what: "the first wave" });
    const onA = (await services("mix")).filter((i) => i.nodeId === "dd-a" && i.state !== "STOPPED").length;
    expect((await fleet.api("POST", "/api/v1/nodes/dd-a/drain?shutdown=false")).status).toBeLessThan(300);

    await waitFor(async () => (await deployment("mix", 1)).state === "COMPLETED", {
      timeoutMs: 90_000,
      intervalMs: 200,
      what: "the restart COMPLETED despite the drain",
    });
    await waitFor(
      async () => {
        const live = (await services("mix")).filter((i) => !["STOPPED", "CRASHED"].includes(i.state));
        return live.length === 6 && live.every((i) => i.state === "RUNNING" && i.nodeId !== "dd-a");
      },
      { timeoutMs: 60_000, intervalMs: 200, what: "6 RUNNING, none on the drained node" },
    );
    const live = (await services("mix")).filter((i) => i.state === "RUNNING");
    expect(live.every((i) => i.deploymentRevision === 1)).toBe(true);
    // Six replacements, plus at most one move per instance the drain found on its node; no plan twice.
    const starts = fleet.daemons.reduce((n, d) => n + d.starts, 0) - startsBefore;
    expect(starts).toBeGreaterThanOrEqual(6);
    expect(starts).toBeLessThanOrEqual(6 + onA);
    const plans = fleet.daemons.flatMap((d) => d.startLog.map((s) => s.planHash));
    expect(new Set(plans).size).toBe(plans.length);
  }, 150_000);

  test("a paused deployment of a deleted group is ended FAILED by the reconciler", async () => {
    const created = await fleet.api(
      "POST",
      "/api/v1/groups",
      customGroup("doomed", { scalingMode: "STATIC", minInstances: 2, maxInstances: 2, memoryMb: 128 }),
    );
    expect(created.status).toBe(201);
    await waitFor(async () => (await services("doomed")).filter((i) => i.state === "RUNNING").length === 2, {
      timeoutMs: 20_000,
      what: "2 doomed instances RUNNING",
    });
    expect((await fleet.api("POST", "/api/v1/groups/doomed/restart", {})).status).toBe(202);
    expect((await fleet.api("POST", "/api/v1/groups/doomed/deployments/1/pause")).status).toBe(200);
    expect((await fleet.api("DELETE", "/api/v1/groups/doomed")).status).toBe(200);
    const store = fleet.controller.store.collection<{ _id: string; state: string; reason: string }>(
      "deployments",
    );
    const ended = await waitFor(
      async () => {
        const doc = await store.get("doomed:1");
        return doc?.state === "FAILED" ? doc : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: "the orphaned deployment FAILED" },
    );
    expect(ended.reason).toContain("deleted");
  }, 60_000);

  test("a canary reporting TPS below minHealthyTps fails the gate and rolls back", async () => {
    const created = await fleet.api(
      "POST",
      "/api/v1/groups",
      customGroup("laggy", { scalingMode: "STATIC", minInstances: 2, maxInstances: 2, memoryMb: 128 }),
    );
    expect(created.status).toBe(201);
    await waitFor(async () => (await services("laggy")).filter((i) => i.state === "RUNNING").length === 2, {
      timeoutMs: 20_000,
      what: "2 laggy instances RUNNING",
    });
    const res = await fleet.api("POST", "/api/v1/groups/laggy/restart", {
      strategy: "CANARY",
      // long enough that the report below lands before the canary counts as stabilized
      minHealthySeconds: 6,
      minHealthyTps: 18,
    });
    expect(res.status).toBe(202);
    const canary = await waitFor(
      async () => (await services("laggy")).find((i) => i.deploymentRevision === 1 && i.state === "RUNNING"),
      { timeoutMs: 20_000, what: "the canary RUNNING" },
    );
    // What the canary's plugin would report (POST /api/plugin/metrics keeps exactly this record).
    await new InstanceMetrics(fleet.controller.coord).record({
      instanceId: canary.id,
      group: "laggy",
      kind: "server",
      receivedAt: Date.now(),
      values: { tps1m: 9.5 },
    });
    const end = await waitFor(
      async () => {
        const d = await deployment("laggy", 1);
        return d.state === "IN_PROGRESS" ? undefined : d;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: "the canary judged" },
    );
    expect(end.state).toBe("ROLLED_BACK");
    expect(end.reason).toContain("TPS 9.5 below 18");
    await waitFor(
      async () => {
        const live = (await services("laggy")).filter((i) => !["STOPPED", "CRASHED"].includes(i.state));
        return live.length === 2 && live.every((i) => i.deploymentRevision === 0);
      },
      { timeoutMs: 30_000, what: "the group back on its old instances" },
    );
  }, 60_000);
  test("group settings are pinned per revision: after a failed canary, an old-revision placement gets the old settings", async () => {
    const created = await fleet.api(
      "POST",
      "/api/v1/groups",
      customGroup("pinned", {
        scalingMode: "STATIC",
        minInstances: 2,
        maxInstances: 2,
        memoryMb: 128,
        env: { STAGE: "a" },
      }),
    );
    expect(created.status).toBe(201);
    await waitFor(async () => (await services("pinned")).filter((i) => i.state === "RUNNING").length === 2, {
      timeoutMs: 20_000,
      what: "2 pinned instances RUNNING",
    });
    const planEnv = async (id: string) => {
      const plan = await fleet.controller.store.collection("instance_composition_plans").get(id);
      return JSON.stringify(plan ?? {}).match(/"STAGE":"(\w+)"/)?.[1];
    };
    const res = await fleet.api("POST", "/api/v1/groups/pinned/deploy", {
      strategy: "CANARY",
      group: { env: { STAGE: "b" } },
      minHealthySeconds: 6,
      minHealthyTps: 18,
    });
    expect(res.status).toBe(202);
    const canary = await waitFor(
      async () => (await services("pinned")).find((i) => i.deploymentRevision === 1 && i.state === "RUNNING"),
      { timeoutMs: 20_000, what: "the canary RUNNING" },
    );
    // The revision's instance runs the revision's settings.
    expect(await planEnv(canary.id)).toBe("b");
    await new InstanceMetrics(fleet.controller.coord).record({
      instanceId: canary.id,
      group: "pinned",
      kind: "server",
      receivedAt: Date.now(),
      values: { tps1m: 9.5 },
    });
    await waitFor(async () => (await deployment("pinned", 1)).state !== "IN_PROGRESS", {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: "the canary judged",
    });
    const olds = await waitFor(
      async () => {
        const live = (await services("pinned")).filter((i) => i.state === "RUNNING");
        return live.length === 2 && live.every((i) => i.deploymentRevision === 0) ? live : undefined;
      },
      { timeoutMs: 30_000, what: "the group back on its old instances" },
    );
    // An old instance stops; STATIC places another (its ID comes back) at the head revision, 0 again:
    // it gets r0's settings, not the failed r1's the group was patched with at trigger.
    const starts = () => fleet.daemons.reduce((n, d) => n + d.starts, 0);
    const startsBefore = starts();
    expect((await fleet.api("POST", `/api/v1/services/${olds[0]!.id}/stop`)).status).toBeLessThan(300);
    const live = await waitFor(
      async () => {
        const running = (await services("pinned")).filter((i) => i.state === "RUNNING");
        return starts() > startsBefore && running.length === 2 ? running : undefined;
      },
      { timeoutMs: 30_000, what: "a new instance placed for the stopped one" },
    );
    expect(live.every((i) => i.deploymentRevision === 0)).toBe(true);
    for (const i of live) expect({ id: i.id, stage: await planEnv(i.id) }).toEqual({ id: i.id, stage: "a" });
  }, 90_000);
});
