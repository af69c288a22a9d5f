/**
 * A ROLLING wave drains before it stops, end to end with the compiled binary: `prexor up` (controller
 * + local daemon) runs a STATIC group of two flying-squid servers, and a minecraft-protocol player is
 * connected to the one the first wave replaces (A). A rolling restart, batch 1, maxUnavailable 0,
 * health gate 2 s, drainTimeoutSeconds 5, while REST and the node's processes are sampled:
 *
 * - A stays RUNNING until its replacement is RUNNING and past the gate; then A is DRAINING (its
 *   server process alive, the player still connected), and only then STOPPING/STOPPED;
 * - the player never leaves, so A is stopped at the drain deadline: no sooner than drainTimeoutSeconds
 *   after it became DRAINING, by the controller's own timestamps on A's record;
 * - the second wave waits: no second replacement is placed while A is still DRAINING;
 * - the deployment COMPLETES with both instances on the new revision.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { Client } from "minecraft-protocol";
import { tempDir } from "../support/adapters.ts";
import type { AdminApi } from "../support/admin-api.ts";
import { ensureBinary, type Running } from "../support/binary.ts";
import type { DeploymentRow, InstanceRow } from "../support/deployment-views.ts";
import { crashSummary } from "../support/failover-cluster.ts";
import { serverProcesses } from "../support/node-processes.ts";
import { joinOfflinePlayer } from "../support/offline-player.ts";
import { workloadPortRange } from "../support/ports.ts";
import { startUpCloud, stopAllInstances } from "../support/up-cloud.ts";
import { randomId, waitFor } from "../support/wait.ts";
import { LAUNCHER } from "../support/workloads/harness.ts";

ensureBinary();
const DRAIN_TIMEOUT_S = 5;
const MIN_HEALTHY_S = 2;
const running: Running[] = [];
let api: AdminApi | undefined;
let client: Client | undefined;
// Workloads of `prexor up` carry CLOUD_NODE_ID=local, as other suites' do: a unique group name
// tells this test's server processes apart.
const group = randomId("rd");
afterAll(async () => {
  client?.end("test over");
  // `prexor up` leaves its workloads running when it exits: they are ended first.
  if (api !== undefined)
    await stopAllInstances(api).catch((err: Error) => {
      // Reported, not thrown: the processes are ended below either way, and the test's own failure
      // (if any) is the one worth seeing.
      console.error(`stopping the instances: ${err.message}`);
    });
  for (const r of running.splice(0)) await r.stop("SIGTERM");
  const left = new Map<string, Set<number>>();
  serverProcesses("local", LAUNCHER, left);
  for (const [key, pids] of left)
    if (key.startsWith(`${group}-`)) for (const pid of pids) process.kill(pid, "SIGKILL");
}, 60_000);

type Inst = InstanceRow;
type Dep = DeploymentRow;

/** `{group}-{N}` in the order a rolling wave takes them (numeric-aware). */
const byId = (a: Inst, b: Inst) => a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe("ROLLING drain end to end", () => {
  test("the old instance is DRAINING (process alive, player kept) before it stops, at the drain deadline", async () => {
    const dir = tempDir("prexor-e2e-rolldrain-");
    const up = await startUpCloud(dir, undefined, {
      yaml: "catalog:\n  downloads:\n    enabled: false\nscheduler:\n  evaluationIntervalSeconds: 1\n",
    });
    running.push(up.up);
    api = up.api;
    const a = api;
    const services = async () =>
      (await a.call<{ data: Inst[] }>("GET", `/api/v1/services?group=${group}&pageSize=500`)).body.data;
    const deployment = async () => (await a.call<Dep>("GET", `/api/v1/groups/${group}/deployments/1`)).body;
    const rangeStart = await workloadPortRange();
    const created = await a.call("POST", "/api/v1/groups", {
      name: group,
      platform: "CUSTOM",
      scalingMode: "STATIC",
      minInstances: 2,
      maxInstances: 2,
      memoryMb: 160,
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
    const old = (await services()).filter((i) => i.state === "RUNNING").sort(byId);
    const target = old[0]!;
    const player = await joinOfflinePlayer(target.port, "Prexor_roll");
    client = player.client;
    await waitFor(async () => (await services()).find((i) => i.id === target.id)?.playerCount === 1, {
      timeoutMs: 30_000,
      what: "the player counted on A",
    });

    const breaches: string[] = [];
    const states: string[] = [];
    let drainingAt: string | null = null;
    let stoppedAt: string | null = null;
    let replacementRunningAt: string | null = null;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const list = await services();
        const procs = new Map<string, Set<number>>();
        serverProcesses("local", LAUNCHER, procs);
        const alive = new Set([...procs.keys()].map((k) => k.split("@")[0]));
        // Its id may be reused by a later placement at the new revision: A is the revision-0 record.
        const now = list.find((i) => i.id === target.id && i.deploymentRevision === 0);
        const state = now?.state ?? "STOPPED";
        if (states.at(-1) !== state) states.push(state);
        const fresh = list.filter(
          (i) => i.deploymentRevision === 1 && !["STOPPED", "CRASHED"].includes(i.state),
        );
        if (state === "DRAINING") {
          drainingAt ??= now!.stateChangedAt;
          if (!alive.has(target.id)) breaches.push("A's server process gone while DRAINING");
          if (player.ended()) breaches.push("the player was disconnected while A was DRAINING");
          // Its replacement RUNS (past the gate: checked below) while A drains; the next wave waits.
          const ready = fresh.filter((i) => i.state === "RUNNING");
          if (ready.length !== 1) breaches.push(`A DRAINING with ${ready.length} RUNNING replacement(s)`);
          else replacementRunningAt ??= ready[0]!.stateChangedAt;
          if (fresh.length > 1) breaches.push(`a second replacement placed while A drains: ${fresh.length}`);
        } else if (state === "RUNNING" && fresh.length > 1) {
          breaches.push(`two replacements while A still RUNNING`);
        } else if ((state === "STOPPING" || state === "STOPPED") && now !== undefined) {
          stoppedAt ??= now.stateChangedAt;
        }
        await Bun.sleep(100); // the sampler's period (the issue samples every 100 ms), not a synchronisation
      }
    })();

    const res = await a.call<{ revision: number }>("POST", `/api/v1/groups/${group}/restart`, {
      batchSize: 1,
      maxUnavailable: 0,
      healthGateEnabled: true,
      minHealthySeconds: MIN_HEALTHY_S,
      drainTimeoutSeconds: DRAIN_TIMEOUT_S,
    });
    expect(res.status).toBe(202);
    const end = await waitFor(
      async () => {
        const d = await deployment();
        return d.state === "IN_PROGRESS" ? undefined : d;
      },
      { timeoutMs: 180_000, intervalMs: 200, what: "the rolling restart to end" },
    );
    sampling = false;
    await sampler;
    console.log(
      `E2E rolling drain: A went ${states.join(" → ")}; DRAINING at ${drainingAt}, stopped at ${stoppedAt}; ${end.reason}`,
    );
    if (end.state !== "COMPLETED") console.log(`crashes: ${await crashSummary(a, group)}`);
    expect(end.state).toBe("COMPLETED");
    expect(breaches).toEqual([]);
    // RUNNING, then DRAINING, then stopping: never stopped straight from RUNNING.
    expect(states[0]).toBe("RUNNING");
    expect(states[1]).toBe("DRAINING");
    expect(states.slice(2).every((s) => s === "STOPPING" || s === "STOPPED")).toBe(true);
    expect(states.at(-1)).toBe("STOPPED");
    // The wave waited for the replacement to be ready: RUNNING for the gate's minHealthySeconds
    // before A was drained (both timestamps are the controller's, on the instance records).
    expect(replacementRunningAt).not.toBeNull();
    expect(Date.parse(drainingAt!) - Date.parse(replacementRunningAt!)).toBeGreaterThanOrEqual(
      MIN_HEALTHY_S * 1000,
    );
    // The player never left, so only the deadline could end the drain.
    expect(drainingAt).not.toBeNull();
    expect(stoppedAt).not.toBeNull();
    expect(Date.parse(stoppedAt!) - Date.parse(drainingAt!)).toBeGreaterThanOrEqual(DRAIN_TIMEOUT_S * 1000);
    // Two waves, A's first; both on the new revision at the end.
    expect(end.waves.map((w) => w.verdict)).toEqual(["passed", "passed"]);
    expect(end.waves[0]!.replaced.map((r) => r.old)).toEqual([target.id]);
    const live = (await services()).filter((i) => !["STOPPED", "CRASHED"].includes(i.state));
    expect(live.length).toBe(2);
    expect(live.every((i) => i.state === "RUNNING" && i.deploymentRevision === 1)).toBe(true);
  }, 300_000);
});
