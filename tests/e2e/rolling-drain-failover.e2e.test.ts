/**
 * A rolling drain survives the controller driving it (compiled binary, production profile on the
 * harness's MongoDB-wire server and redis-server; two controllers, one daemon). A STATIC group of two
 * flying-squid servers; a minecraft-protocol player on the one the first wave replaces (A). A rolling
 * restart, batch 1, maxUnavailable 0, drainTimeoutSeconds 12: once A's replacement passed the gate,
 * A is DRAINING with the player. kill -9 of the controller holding the group's lease right then.
 *
 * The survivor has A's record to go by: A stays DRAINING (not undrained, not stopped at takeover), is
 * stopped at the deadline counted from when A became DRAINING (its record's stateChangedAt, written
 * by the driver), and the deployment COMPLETES: both instances on the new revision, 4 placements in
 * all, each one server process on the node.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Client } from "minecraft-protocol";
import { ensureBinary, type Running } from "../support/binary.ts";
import type { DeploymentRow, InstanceRow } from "../support/deployment-views.ts";
import { crashSummary, type FailoverCluster, startFailoverCluster } from "../support/failover-cluster.ts";
import { killNodeProcesses, watchServerProcesses } from "../support/node-processes.ts";
import { joinOfflinePlayer } from "../support/offline-player.ts";
import { workloadPortRange } from "../support/ports.ts";
import { nodeView } from "../support/production-controller.ts";
import { mongoServer, redisServer } from "../support/servers.ts";
import { waitFor } from "../support/wait.ts";
import { LAUNCHER } from "../support/workloads/harness.ts";

ensureBinary();
const mongo = await mongoServer();
const redis = await redisServer();
const skip = mongo.skip ?? redis.skip;
const NODE = "rd-fo-1";
const GROUP = "rdfo";
/** Long enough that the kill, the lease TTL and the survivor's first ticks all fit inside it. */
const DRAIN_TIMEOUT_S = 12;

const running: Running[] = [];
let client: Client | undefined;
afterAll(async () => {
  client?.end("test over");
  for (const r of running.splice(0)) await r.stop("SIGKILL");
  killNodeProcesses(NODE);
});

type Inst = InstanceRow;
type Dep = DeploymentRow;

describe.skipIf(skip !== undefined)("rolling drain failover", () => {
  let cluster: FailoverCluster;
  beforeAll(async () => {
    cluster = await startFailoverCluster({
      mongo: mongo.server!,
      redis: redis.server!,
      nodeId: NODE,
      password: "rd-failover-password-0123",
      prefix: "rdfo",
      running,
    });
  }, 120_000);

  test("kill -9 of the driver while the old instance drains: the survivor stops it at the recorded deadline", async () => {
    const api = cluster.live[0]!.api;
    const services = async (a = api) =>
      (await a.call<{ data: Inst[] }>("GET", `/api/v1/services?group=${GROUP}&pageSize=500`)).body.data;
    const deployment = async (a = api) =>
      (await a.call<Dep>("GET", `/api/v1/groups/${GROUP}/deployments/1`)).body;
    const rangeStart = await workloadPortRange();
    const created = await api.call("POST", "/api/v1/groups", {
      name: GROUP,
      platform: "CUSTOM",
      scalingMode: "STATIC",
      minInstances: 2,
      maxInstances: 2,
      memoryMb: 160,
      spreadConstraint: "",
      portRangeStart: rangeStart,
      portRangeEnd: Math.min(65535, rangeStart + 40),
      argvTemplate: [process.execPath, LAUNCHER, "--port", "{PORT}"],
    });
    expect(created.status).toBe(201);
    await waitFor(async () => (await services()).filter((i) => i.state === "RUNNING").length === 2, {
      timeoutMs: 120_000,
      intervalMs: 250,
      what: "2 instances RUNNING",
    });
    // `{group}-{N}` numeric-aware, the order a rolling wave takes them in.
    const old = (await services())
      .filter((i) => i.state === "RUNNING")
      .sort((a, b) => a.id.length - b.id.length || (a.id < b.id ? -1 : 1));
    const target = old[0]!;
    const player = await joinOfflinePlayer(target.port, "Prexor_rdfo");
    client = player.client;
    await waitFor(async () => (await services()).find((i) => i.id === target.id)?.playerCount === 1, {
      timeoutMs: 30_000,
      what: "the player counted on A",
    });

    const processes = watchServerProcesses(NODE, LAUNCHER, `${GROUP}-`);

    const res = await api.call("POST", `/api/v1/groups/${GROUP}/restart`, {
      batchSize: 1,
      maxUnavailable: 0,
      healthGateEnabled: true,
      minHealthySeconds: 2,
      drainTimeoutSeconds: DRAIN_TIMEOUT_S,
    });
    expect(res.status).toBe(202);
    const a = await waitFor(
      async () => {
        const d = await deployment();
        // Ended before A was seen draining: no use waiting on.
        if (d.state !== "IN_PROGRESS") return { ended: d };
        const inst = (await services()).find((i) => i.id === target.id);
        return inst?.state === "DRAINING" ? { inst } : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 100, what: "A DRAINING" },
    ).then(async (seen) => {
      if (seen.inst !== undefined) return seen.inst;
      throw new Error(
        `ended before A drained: ${JSON.stringify(seen.ended)}; crashes ${await crashSummary(api, GROUP)}`,
      );
    });
    const { driver, survivor } = await cluster.driverOf(GROUP);
    const atKill = await deployment(survivor.api);
    const killedAtEpoch = Date.now();
    await cluster.kill(driver);
    const drainingAt = Date.parse(a.stateChangedAt ?? "");
    expect(player.ended()).toBe(false);
    expect(atKill.waves.length).toBe(1);

    let undrained = false;
    const timeline: string[] = [];
    let stoppedAt: number | undefined;
    const end = await waitFor(
      async () => {
        // Its id may be reused by a later placement at the new revision: A is the revision-0 record.
        const now = (await services(survivor.api)).find(
          (i) => i.id === target.id && i.deploymentRevision === 0,
        );
        if (now?.state === "RUNNING") undrained = true;
        const step = `${now?.state}@${now?.stateChangedAt}`;
        if (timeline.at(-1) !== step) timeline.push(step);
        if ((now?.state === "STOPPING" || now?.state === "STOPPED") && stoppedAt === undefined)
          stoppedAt = Date.parse(now.stateChangedAt ?? "");
        const d = await deployment(survivor.api);
        return d.state === "IN_PROGRESS" ? undefined : d;
      },
      {
        timeoutMs: DRAIN_TIMEOUT_S * 1000 + 90_000,
        intervalMs: 200,
        what: "the restart ended by the survivor",
      },
    );
    const live = await waitFor(
      async () => {
        const list = await services(survivor.api);
        return list.every((i) => i.deploymentRevision !== 0 || i.state === "STOPPED") ? list : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: "every old instance STOPPED" },
    ).catch(async (err: Error) => {
      const list = (await services(survivor.api)).map(
        (i) => `${i.id} r${i.deploymentRevision} ${i.state} since ${i.stateChangedAt}`,
      );
      const node = await nodeView(survivor.api, NODE);
      throw new Error(
        `${err.message} (deployment ${end.state}: ${end.reason}): ${list.join(", ")}; node ${node?.state} on ${node?.controllerId}; crashes ${await crashSummary(survivor.api, GROUP)}`,
      );
    });
    await processes.stop();
    console.log(
      `rolling drain failover: kill -9 while ${target.id} drained (${Math.round((killedAtEpoch - drainingAt) / 1000)} s in) → stopped ${stoppedAt === undefined ? "?" : Math.round((stoppedAt - drainingAt) / 1000)} s after DRAINING (deadline ${DRAIN_TIMEOUT_S} s); ${end.state}: ${end.reason}`,
    );
    console.log(`A after the kill at ${new Date(killedAtEpoch).toISOString()}: ${timeline.join(" → ")}`);
    expect(end.state).toBe("COMPLETED");
    expect(undrained).toBe(false);
    // Stopped by the survivor, at the deadline the driver's DRAINING record set, not at its takeover.
    expect(stoppedAt).toBeGreaterThan(killedAtEpoch);
    expect(stoppedAt).toBeGreaterThanOrEqual(drainingAt + DRAIN_TIMEOUT_S * 1000);
    const serving = live.filter((i) => !["STOPPED", "CRASHED"].includes(i.state));
    expect(serving.length).toBe(2);
    expect(serving.every((i) => i.state === "RUNNING" && i.deploymentRevision === 1)).toBe(true);
    // The driver's wave is kept as the first of two; A's replacement is the one it placed.
    expect(end.waves.map((w) => w.verdict)).toEqual(["passed", "passed"]);
    expect(end.waves[0]!.replaced).toEqual(atKill.waves[0]!.replaced);
    const placements = [...processes.seen];
    expect(placements.length).toBe(4);
    expect(placements.filter(([, pids]) => pids.size > 1).map(([key]) => key)).toEqual([]);
  }, 360_000);
});
