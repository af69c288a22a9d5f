/**
 * A deployment survives the controller driving it (compiled binary, production profile on the
 * harness's MongoDB-wire server and redis-server). Two controllers, one daemon, a STATIC group of 4
 * flying-squid servers; a rolling restart with a health gate (so each wave lasts seconds) is driven by
 * whichever controller holds `group:squid`. kill -9 of that controller mid-wave: the survivor takes
 * the lease after its TTL and finishes the deployment from the instances' revisions. From the node's
 * side every placement (instance id + placement time) ran exactly one server process.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AdminApi } from "../support/admin-api.ts";
import { ensureBinary, type Running } from "../support/binary.ts";
import { type FailoverCluster, startFailoverCluster } from "../support/failover-cluster.ts";
import { killNodeProcesses, watchServerProcesses } from "../support/node-processes.ts";
import { workloadPortRange } from "../support/ports.ts";
import type { ProductionController } from "../support/production-controller.ts";
import { mongoServer, redisServer } from "../support/servers.ts";
import { waitFor } from "../support/wait.ts";
import { LAUNCHER } from "../support/workloads/harness.ts";

ensureBinary();
const mongo = await mongoServer();
const redis = await redisServer();
const skip = mongo.skip ?? redis.skip;
const PASSWORD = "deploy-failover-password-0123";
const NODE = "deploy-fo-1";
/** the cluster's scheduler tick (startFailoverCluster); the group lease TTL is two ticks */
const INTERVAL_S = 1;

const running: Running[] = [];
afterAll(async () => {
  for (const r of running.splice(0)) await r.stop("SIGKILL");
  killNodeProcesses(NODE);
});

describe.skipIf(skip !== undefined)("deployment failover", () => {
  let cluster: FailoverCluster;
  beforeAll(async () => {
    cluster = await startFailoverCluster({
      mongo: mongo.server!,
      redis: redis.server!,
      nodeId: NODE,
      password: PASSWORD,
      prefix: "deployfo",
      running,
    });
  }, 120_000);

  test("kill -9 of the driving controller mid-wave: the survivor finishes, no placement ran twice", async () => {
    const [first] = cluster.live as [ProductionController];
    const rangeStart = await workloadPortRange();
    const created = await first.api.call("POST", "/api/v1/groups", {
      name: "squid",
      platform: "CUSTOM",
      scalingMode: "STATIC",
      minInstances: 4,
      maxInstances: 4,
      memoryMb: 160,
      spreadConstraint: "",
      portRangeStart: rangeStart,
      portRangeEnd: Math.min(65535, rangeStart + 40),
      argvTemplate: [process.execPath, LAUNCHER, "--port", "{PORT}"],
    });
    expect(created.status).toBe(201);
    type Inst = { id: string; state: string; deploymentRevision: number };
    const services = async (api: AdminApi) =>
      (await api.call<{ data: Inst[] }>("GET", "/api/v1/services?group=squid&pageSize=500")).body.data;
    await waitFor(async () => (await services(first.api)).filter((i) => i.state === "RUNNING").length === 4, {
      timeoutMs: 120_000,
      intervalMs: 250,
      what: "4 squid instances RUNNING",
    });

    const processes = watchServerProcesses(NODE, LAUNCHER);
    const seen = processes.seen;

    const res = await first.api.call<{ revision: number }>("POST", "/api/v1/groups/squid/restart", {
      batchSize: 1,
      healthGateEnabled: true,
      minHealthySeconds: 4,
    });
    expect(res.status).toBe(202);
    type Dep = { state: string; updatedInstances: number; waves: Array<{ verdict: string }> };
    const dep = async (api: AdminApi) =>
      (await api.call<Dep>("GET", "/api/v1/groups/squid/deployments/1")).body;

    // Mid-wave: the second wave is open on whichever controller holds the group's lease.
    await waitFor(async () => (await dep(first.api)).waves.length >= 2, {
      timeoutMs: 120_000,
      intervalMs: 100,
      what: "the second wave to open",
    });
    const { driver, survivor } = await cluster.driverOf("squid");
    const before = await dep(survivor.api);
    const killedAt = performance.now();
    await cluster.kill(driver);

    // The survivor moves it on: the first progress after the kill, then the end.
    const movedMs = await waitFor(
      async () => {
        const d = await dep(survivor.api);
        return d.updatedInstances !== before.updatedInstances || d.waves.length !== before.waves.length
          ? Math.round(performance.now() - killedAt)
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: "progress recorded by the survivor" },
    );
    const end = await waitFor(
      async () => {
        const d = await dep(survivor.api);
        return d.state === "COMPLETED" ? d : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 200, what: "the deployment COMPLETED by the survivor" },
    );
    const doneMs = Math.round(performance.now() - killedAt);
    await processes.stop();
    console.log(
      `deployment failover: kill -9 of the driver → survivor's first progress after ${movedMs} ms, COMPLETED after ${doneMs} ms (lease TTL ${INTERVAL_S * 2} s)`,
    );
    expect(end.updatedInstances).toBe(4);
    const live = (await services(survivor.api)).filter((i) => i.state === "RUNNING");
    expect(live.length).toBe(4);
    expect(live.every((i) => i.deploymentRevision === 1)).toBe(true);
    // 4 old + 4 replacement placements, each exactly one server process as seen on the node.
    expect(seen.size).toBeGreaterThanOrEqual(8);
    const twice = [...seen].filter(([, pids]) => pids.size > 1).map(([key]) => key);
    expect(twice).toEqual([]);
  }, 360_000);
});
