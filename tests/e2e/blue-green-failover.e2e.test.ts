/**
 * A BLUE_GREEN switch survives the controller driving it (compiled binary, production profile on the
 * harness's MongoDB-wire server and redis-server). Two controllers, one daemon, a STATIC group of 3
 * flying-squid servers (blue), a minecraft-protocol player connected to one of them.
 *
 * The kill comes at the riskiest point of the switch: green is up and gated, the routing switch to
 * green is recorded, blue is draining (the blue instance holding the player stays DRAINING until the
 * drain deadline) and not yet retired. From here on the survivor has nothing to go by but the
 * record's routing side and `switchedAt` and the instances themselves: it must not place green again,
 * must not hand routing back to blue or undrain it, and must stop the remaining blue instance at the
 * recorded drain deadline. kill -9 of whichever controller holds `group:<g>` at that moment; the
 * survivor finishes: exactly 3 RUNNING on the new revision, no old-revision instance left, every
 * placement ran one server process (6 placements in all: 3 blue + 3 green, none again), and the record
 * COMPLETED with the same single wave it had at the kill.
 *
 * A second case, on a pair of controllers and a node of its own, kills the driver one step earlier: every green RUNNING and inside its health gate,
 * routing still blue. The survivor must gate the greens the driver placed (by their records), place
 * none again, switch, retire blue and close the same wave.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { Client } from "minecraft-protocol";
import { MongoClient } from "mongodb";
import { DEPLOYMENTS } from "../../src/controller/deployments/deployment-doc.ts";
import type { AdminApi } from "../support/admin-api.ts";
import { ensureBinary, type Running } from "../support/binary.ts";
import type { DeploymentRow, InstanceRow } from "../support/deployment-views.ts";
import { crashSummary, startFailoverCluster } from "../support/failover-cluster.ts";
import { killNodeProcesses, watchServerProcesses } from "../support/node-processes.ts";
import { joinOfflinePlayer } from "../support/offline-player.ts";
import { workloadPortRange } from "../support/ports.ts";
import { nodeView, type ProductionController } from "../support/production-controller.ts";
import { mongoServer, redisServer } from "../support/servers.ts";
import { waitFor } from "../support/wait.ts";
import { LAUNCHER } from "../support/workloads/harness.ts";

ensureBinary();
const mongo = await mongoServer();
const redis = await redisServer();
const skip = mongo.skip ?? redis.skip;
const PASSWORD = "bg-failover-password-0123";
/** one node per case, each case its own pair of controllers */
const NODES = ["bg-fo-1", "bg-fo-2"] as const;
const GROUP = "bgfo";
const SIZE = 3;
/** Long enough that the kill, the lease TTL and the survivor's first ticks all fit before it passes. */
const DRAIN_TIMEOUT_S = 15;

const running: Running[] = [];
let client: Client | undefined;
afterAll(async () => {
  client?.end("test over");
  for (const r of running.splice(0)) await r.stop("SIGKILL");
  for (const node of NODES) killNodeProcesses(node);
});

type Inst = InstanceRow;
type Dep = DeploymentRow;

/** `switchedAt` of the group's revision 1 as the driver wrote it (the API does not show it). */
async function recordedSwitch(database: string, group: string): Promise<number> {
  const client = await MongoClient.connect(mongo.server!.uri, { serverSelectionTimeoutMS: 5000 });
  try {
    const doc = await client
      .db(database)
      .collection<{ groupName: string; revision: number; switchedAt?: number }>(DEPLOYMENTS)
      .findOne({ groupName: group, revision: 1 });
    if (typeof doc?.switchedAt !== "number") throw new Error(`no switchedAt on ${JSON.stringify(doc)}`);
    return doc.switchedAt;
  } finally {
    await client.close();
  }
}

const services = async (api: AdminApi, group = GROUP) =>
  (await api.call<{ data: Inst[] }>("GET", `/api/v1/services?group=${group}&pageSize=500`)).body.data;
const deployment = async (api: AdminApi, group = GROUP) =>
  (await api.call<Dep>("GET", `/api/v1/groups/${group}/deployments/1`)).body;

/** A STATIC group of SIZE flying-squid servers on the node, created through `api`, all RUNNING. */
async function blueGroup(api: AdminApi, group: string): Promise<Inst[]> {
  const rangeStart = await workloadPortRange();
  const created = await api.call("POST", "/api/v1/groups", {
    name: group,
    platform: "CUSTOM",
    scalingMode: "STATIC",
    minInstances: SIZE,
    maxInstances: SIZE,
    memoryMb: 160,
    spreadConstraint: "",
    env: { SIDE: "blue" },
    portRangeStart: rangeStart,
    portRangeEnd: Math.min(65535, rangeStart + 40),
    argvTemplate: [process.execPath, LAUNCHER, "--port", "{PORT}"],
  });
  expect(created.status).toBe(201);
  await waitFor(
    async () => (await services(api, group)).filter((i) => i.state === "RUNNING").length === SIZE,
    {
      timeoutMs: 120_000,
      intervalMs: 250,
      what: `${SIZE} ${group} instances RUNNING`,
    },
  );
  return (await services(api, group)).filter((i) => i.state === "RUNNING");
}

/**
 * The group's instances once no revision-0 instance is left but STOPPED: COMPLETED is recorded when
 * the last blue stop is sent (STOPPING counts as gone for the planner), its process ends just after.
 */
async function blueGone(api: AdminApi, group: string, node: string): Promise<Inst[]> {
  return await waitFor(
    async () => {
      const list = await services(api, group);
      return list.every((i) => i.deploymentRevision !== 0 || i.state === "STOPPED") ? list : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: `every blue instance of ${group} STOPPED` },
  ).catch(async (err: Error) => {
    const list = (await services(api, group)).map(
      (i) => `${i.id} r${i.deploymentRevision} ${i.state} since ${i.stateChangedAt}`,
    );
    const view = await nodeView(api, node);
    throw new Error(`${err.message}: ${list.join(", ")}; node ${JSON.stringify(view)}`);
  });
}

describe.skipIf(skip !== undefined)("BLUE_GREEN failover", () => {
  const clusterFor = (case_: number) =>
    startFailoverCluster({
      mongo: mongo.server!,
      redis: redis.server!,
      nodeId: NODES[case_]!,
      password: PASSWORD,
      prefix: `bgfo${case_}`,
      running,
    });

  test("kill -9 of the driver after the switch, blue draining: the survivor retires blue and completes", async () => {
    const cluster = await clusterFor(0);
    const [first] = cluster.live as [ProductionController];
    const blue = await blueGroup(first.api, GROUP);
    const held = blue[0]!;
    const player = await joinOfflinePlayer(held.port, "Prexor_bgfo");
    client = player.client;
    await waitFor(async () => (await services(first.api)).find((i) => i.id === held.id)?.playerCount === 1, {
      timeoutMs: 30_000,
      what: "the player counted on blue",
    });

    const processes = watchServerProcesses(cluster.nodeId, LAUNCHER, `${GROUP}-`);

    const res = await first.api.call<{ revision: number }>("POST", `/api/v1/groups/${GROUP}/deploy`, {
      strategy: "BLUE_GREEN",
      group: { env: { SIDE: "green" } },
      healthGateEnabled: true,
      minHealthySeconds: 2,
      drainTimeoutSeconds: DRAIN_TIMEOUT_S,
    });
    expect(res.status).toBe(202);
    expect(res.body.revision).toBe(1);

    // The switch is recorded and blue is draining, the player still on it: the point to kill at.
    const snapshot = async (what: string) => {
      const d = await deployment(first.api);
      const list = (await services(first.api)).map(
        (i) => `${i.id} r${i.deploymentRevision} ${i.state} players ${i.playerCount}`,
      );
      const crashes = await crashSummary(first.api, GROUP);
      return `${what}; player connected ${!player.ended()}; record ${JSON.stringify(d)}; instances ${list.join(", ")}; crashes ${crashes}`;
    };
    const point = await waitFor(
      async () => {
        const d = await deployment(first.api);
        // Ended before the point was seen: no use waiting for it.
        if (d.state !== "IN_PROGRESS") return "ended";
        if (d.routing !== "green") return false;
        return (await services(first.api)).find((i) => i.id === held.id)?.state === "DRAINING" && "seen";
      },
      { timeoutMs: 120_000, intervalMs: 100, what: "routing on green with blue draining" },
    ).catch(async (err: Error) => {
      throw new Error(await snapshot(err.message));
    });
    if (point !== "seen") throw new Error(await snapshot("the deployment ended before the kill point"));
    const { driver, survivor } = await cluster.driverOf(GROUP);
    const atKill = await deployment(survivor.api);
    const liveAtKill = await services(survivor.api);
    const playerAtKill = !player.ended() && liveAtKill.find((i) => i.id === held.id)?.playerCount === 1;
    const killedAt = performance.now();
    const killedAtEpoch = Date.now();
    await cluster.kill(driver);
    expect(atKill.routing).toBe("green");
    expect(atKill.waves.length).toBe(1);
    expect(atKill.waves[0]!.verdict).toBe("passed");
    expect(liveAtKill.find((i) => i.id === held.id)?.state).toBe("DRAINING");

    // The survivor, from the record alone: blue stays out of routing and is stopped at the deadline.
    let undrained = false;
    let backToBlue = false;
    let heldStopAt: number | undefined;
    const end = await waitFor(
      async () => {
        const list = await services(survivor.api);
        const h = list.find((i) => i.id === held.id && i.deploymentRevision === 0);
        if (h?.state === "RUNNING") undrained = true;
        if ((h?.state === "STOPPING" || h?.state === "STOPPED") && heldStopAt === undefined)
          heldStopAt = Date.parse(h.stateChangedAt ?? "");
        const d = await deployment(survivor.api);
        if (d.routing !== "green") backToBlue = true;
        return d.state === "IN_PROGRESS" ? undefined : d;
      },
      {
        timeoutMs: DRAIN_TIMEOUT_S * 1000 + 60_000,
        intervalMs: 200,
        what: "the deployment ended by the survivor",
      },
    );
    const doneMs = Math.round(performance.now() - killedAt);
    await processes.stop();
    const seen = processes.seen;
    console.log(
      `blue-green failover: kill -9 of the driver at "${atKill.reason}" → COMPLETED by the survivor after ${doneMs} ms (drain deadline ${DRAIN_TIMEOUT_S} s after the switch)`,
    );

    expect(end.state).toBe("COMPLETED");
    expect(undrained).toBe(false);
    expect(backToBlue).toBe(false);
    expect(end.updatedInstances).toBe(SIZE);
    // The blue instance holding the player was stopped by the survivor, at the deadline the driver
    // recorded (switchedAt + drainTimeoutSeconds), not at its takeover.
    const switchedAt = await recordedSwitch(cluster.database, GROUP);
    expect(playerAtKill).toBe(true);
    expect(heldStopAt).toBeGreaterThan(killedAtEpoch);
    expect(heldStopAt).toBeGreaterThanOrEqual(switchedAt + DRAIN_TIMEOUT_S * 1000);
    const after = await blueGone(survivor.api, GROUP, cluster.nodeId);
    const live = after.filter((i) => !["STOPPED", "CRASHED"].includes(i.state));
    expect(live.length).toBe(SIZE);
    expect(live.every((i) => i.state === "RUNNING" && i.deploymentRevision === 1)).toBe(true);
    for (const b of blue) expect(after.find((i) => i.id === b.id)?.state ?? "STOPPED").toBe("STOPPED");
    // The wave history is the one the driver wrote: one wave, blue → green, the same green ids that run.
    expect(end.waves).toEqual(atKill.waves);
    const wave = end.waves[0]!;
    expect(wave.replaced.map((r) => r.old).sort()).toEqual(blue.map((b) => b.id).sort());
    expect(wave.replaced.map((r) => r.new).sort()).toEqual(live.map((i) => i.id).sort());
    // From the node's side: 3 blue + 3 green placements, each exactly one server process.
    expect([...seen.keys()].length).toBe(2 * SIZE);
    expect([...seen].filter(([, pids]) => pids.size > 1).map(([key]) => key)).toEqual([]);
    client.end("case over");
    await cluster.stop();
  }, 360_000);

  test("kill -9 of the driver before the switch, green up and gating: no green placed twice, the survivor switches", async () => {
    const cluster = await clusterFor(1);
    const group = "bgpre";
    const [api] = cluster.live.map((c) => c.api) as [AdminApi];
    const blue = await blueGroup(api, group);
    const processes = watchServerProcesses(cluster.nodeId, LAUNCHER, `${group}-`);
    const res = await api.call<{ revision: number }>("POST", `/api/v1/groups/${group}/deploy`, {
      strategy: "BLUE_GREEN",
      group: { env: { SIDE: "green" } },
      healthGateEnabled: true,
      // Long enough that the kill and the lease TTL land inside the gate.
      minHealthySeconds: 8,
    });
    expect(res.status).toBe(202);

    // Every green RUNNING, routing still blue, the wave open: the survivor must keep these greens.
    const point = await waitFor(
      async () => {
        const d = await deployment(api, group);
        if (d.state !== "IN_PROGRESS") return "ended";
        if (d.routing !== "blue") return "switched";
        const greens = (await services(api, group)).filter((i) => i.deploymentRevision === 1);
        return greens.length === SIZE && greens.every((i) => i.state === "RUNNING") && "seen";
      },
      { timeoutMs: 120_000, intervalMs: 100, what: "every green RUNNING before the switch" },
    );
    const { driver, survivor } = await cluster.driverOf(group);
    const atKill = await deployment(survivor.api, group);
    const greensAtKill = (await services(survivor.api, group)).filter((i) => i.deploymentRevision === 1);
    const killedAt = performance.now();
    await cluster.kill(driver);
    expect(point).toBe("seen");
    expect(atKill.routing).toBe("blue");
    expect(atKill.waves.length).toBe(1);
    expect(atKill.waves[0]!.verdict).toBe("pending");

    let greensPlaced = 0;
    const end = await waitFor(
      async () => {
        const list = await services(survivor.api, group);
        greensPlaced = Math.max(greensPlaced, list.filter((i) => i.deploymentRevision === 1).length);
        const d = await deployment(survivor.api, group);
        return d.state === "IN_PROGRESS" ? undefined : d;
      },
      { timeoutMs: 90_000, intervalMs: 200, what: "the deployment ended by the survivor" },
    );
    const doneMs = Math.round(performance.now() - killedAt);
    await processes.stop();
    console.log(
      `blue-green failover before the switch: kill -9 at "${atKill.reason}" → COMPLETED by the survivor after ${doneMs} ms`,
    );
    expect(end.state).toBe("COMPLETED");
    expect(end.routing).toBe("green");
    expect(greensPlaced).toBe(SIZE);
    const after = await blueGone(survivor.api, group, cluster.nodeId);
    const live = after.filter((i) => !["STOPPED", "CRASHED"].includes(i.state));
    // The greens the driver placed are the ones that serve: none replaced, none added.
    expect(live.map((i) => i.id).sort()).toEqual(greensAtKill.map((i) => i.id).sort());
    expect(live.every((i) => i.state === "RUNNING" && i.deploymentRevision === 1)).toBe(true);
    for (const b of blue) expect(after.find((i) => i.id === b.id)?.state ?? "STOPPED").toBe("STOPPED");
    // The same wave, closed by the survivor's switch.
    expect(end.waves.length).toBe(1);
    const [was, now] = [atKill.waves[0]!, end.waves[0]!];
    expect([now.index, now.startedAt, now.replaced]).toEqual([was.index, was.startedAt, was.replaced]);
    expect(now.verdict).toBe("passed");
    expect(now.replaced.map((r) => r.new).sort()).toEqual(live.map((i) => i.id).sort());
    expect([...processes.seen.keys()].length).toBe(2 * SIZE);
    expect([...processes.seen].filter(([, pids]) => pids.size > 1).map(([key]) => key)).toEqual([]);
    await cluster.stop();
  }, 360_000);
});
