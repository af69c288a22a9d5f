/**
 * Node drains end to end: a real controller (scheduler loop, instance lifecycle, REST) and simulated
 * daemons over mTLS. The instance to drain is placed while only node A is connected, node B joins as
 * the place replacements go to, and player counts arrive as the daemon's instance reports.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { BusEvent } from "../../../src/controller/events/event-types.ts";
import type { InstanceDoc } from "../../../src/controller/instances/instance-doc.ts";
import type { NodeDoc } from "../../../src/controller/nodes/node-doc.ts";
import type { DrainDoc } from "../../../src/controller/scheduler/loop/drain-workflow.ts";
import { waitFor } from "../../support/wait.ts";
import { customGroup, type Fleet, startFleet } from "./fleet-harness.ts";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

interface Rig {
  fleet: Fleet;
  events: BusEvent[];
  /** the one instance placed on node A, RUNNING */
  original: InstanceDoc;
  instance(id: string): Promise<InstanceDoc | null>;
  node(id: string): Promise<NodeDoc>;
  drainDoc(nodeId: string): Promise<DrainDoc | null>;
  /** waits for the instance to reach `state` */
  reach(id: string, state: string, timeoutMs?: number): Promise<InstanceDoc>;
}

/** One STATIC group of one instance, RUNNING on node A (`drain-a`); node B (`drain-b`) connected. */
async function rig(group: string): Promise<Rig> {
  fleet = await startFleet({
    daemons: 2,
    nodeMemoryMb: 16_384,
    nodeIds: ["drain-a", "drain-b"],
    connect: 1,
  });
  const f = fleet;
  const events: BusEvent[] = [];
  f.controller.events.onAny((e) => {
    events.push(e);
  });
  const instances = f.controller.store.collection<InstanceDoc>("instances");
  const reach = (id: string, state: string, timeoutMs = 10_000) =>
    waitFor(
      async () => {
        const doc = await instances.get(id);
        return doc?.state === state ? doc : undefined;
      },
      { timeoutMs, what: `${id} to be ${state}` },
    );
  const res = await f.api(
    "POST",
    "/api/v1/groups",
    customGroup(group, { scalingMode: "STATIC", minInstances: 1, maxInstances: 1, memoryMb: 512 }),
  );
  expect(res.status).toBe(201);
  const original = await reach(`${group}-1`, "RUNNING");
  expect(original.node).toBe("drain-a");
  await f.daemons[1]!.connect(f.grpcAddress);
  return {
    fleet: f,
    events,
    original,
    instance: (id) => instances.get(id),
    node: async (id) => (await f.controller.nodes.get(id))!,
    drainDoc: (nodeId) => f.controller.store.collection<DrainDoc>("workflow_drains").get(nodeId),
    reach,
  };
}

const ofType = (events: BusEvent[], type: string) => events.filter((e) => e.type === type);

describe("node drain", () => {
  test("an empty instance is replaced on another node and stopped at once; shutdown=false leaves A cordoned", async () => {
    const r = await rig("dr-empty");
    const res = await r.fleet.api("POST", "/api/v1/nodes/drain-a/drain?shutdown=false");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: "DRAINING", cordoned: true });

    const stopped = await r.reach(r.original._id, "STOPPED");
    const replacement = (await r.fleet.controller.store
      .collection<InstanceDoc>("instances")
      .findOne({ group: "dr-empty", state: "RUNNING" }))!;
    expect(replacement.node).toBe("drain-b");
    expect(stopped.node).toBe("drain-a");
    expect(r.fleet.daemons[0]!.stopReasons.get(r.original._id)).toMatch(
      /^node draining: replacement .+ is RUNNING$/,
    );
    // Empty: it never waited in DRAINING.
    expect(ofType(r.events, "INSTANCE_DRAINING")).toEqual([]);

    await waitFor(async () => (await r.drainDoc("drain-a"))?.state === "COMPLETED", {
      what: "the drain to complete",
    });
    expect(await r.node("drain-a")).toMatchObject({ state: "ONLINE", cordoned: true, drain: null });
    expect(r.fleet.daemons[0]!.shutdowns).toEqual([]);
    expect(ofType(r.events, "NODE_DRAIN_REQUESTED")[0]?.payload).toMatchObject({
      nodeId: "drain-a",
      shutdownAfterDrain: false,
      drainTimeoutSeconds: 60,
      kickMessage: "This server is shutting down for maintenance.",
    });
    await waitFor(() => ofType(r.events, "NODE_DRAIN_COMPLETED").length === 1, {
      what: "NODE_DRAIN_COMPLETED",
    });

    // Over: undrain is refused, uncordon puts the node back into service.
    const undrain = await r.fleet.api("POST", "/api/v1/nodes/drain-a/undrain");
    expect(undrain.status).toBe(409);
    expect(((await undrain.json()) as { error: { message: string } }).error.message).toBe(
      "node not draining",
    );
    expect((await r.fleet.api("POST", "/api/v1/nodes/drain-a/uncordon")).status).toBe(200);
    expect((await r.node("drain-a")).cordoned).toBe(false);
  }, 30_000);

  test("an occupied instance drains until its players leave, then stops; shutdown=true sends ShutdownNode", async () => {
    const r = await rig("dr-busy");
    const daemonA = r.fleet.daemons[0]!;
    daemonA.setPlayers(r.original._id, 3);
    await waitFor(async () => (await r.instance(r.original._id))?.players === 3, { what: "3 players" });

    expect((await r.fleet.api("POST", "/api/v1/nodes/drain-a/drain")).status).toBe(200);
    const draining = await r.reach(r.original._id, "DRAINING");
    expect(draining.reason).toMatch(/replacement .+ is RUNNING; 3 player\(s\) still on it$/);
    await waitFor(() => ofType(r.events, "INSTANCE_DRAINING").length === 1, { what: "INSTANCE_DRAINING" });
    expect(ofType(r.events, "INSTANCE_DRAINING")[0]?.payload).toEqual({
      instanceId: r.original._id,
      group: "dr-busy",
      nodeId: "drain-a",
    });
    const intent = await waitFor(
      async () => {
        const doc = await r.drainDoc("drain-a");
        return doc?.drainingInstanceIds.includes(r.original._id) ? doc : undefined;
      },
      { what: "the intent to list the draining instance" },
    );
    expect(intent).toMatchObject({
      nodeId: "drain-a",
      state: "IN_PROGRESS",
      shutdownAfterDrain: true,
      kickMessage: "This server is shutting down for maintenance.",
      remaining: 1,
    });
    expect(intent.timeoutAt - intent.requestedAt).toBe(60_000);

    // Some players leave: still draining, and the daemon's RUNNING reports do not undo it.
    daemonA.setPlayers(r.original._id, 1);
    await waitFor(async () => (await r.instance(r.original._id))?.players === 1, { what: "1 player" });
    const ticked = r.fleet.controller.scheduler.lastReport()!.at;
    await waitFor(() => r.fleet.controller.scheduler.lastReport()!.at > ticked, { what: "another tick" });
    expect((await r.instance(r.original._id))?.state).toBe("DRAINING");
    expect(daemonA.shutdowns).toEqual([]);
    const drainGauge = async () =>
      (await (await r.fleet.api("GET", "/metrics")).text()).match(
        /^prexorcloud_workflows_node_drains (\d+)$/m,
      )?.[1];
    expect(await drainGauge()).toBe("1");

    daemonA.setPlayers(r.original._id, 0);
    await r.reach(r.original._id, "STOPPED");
    await waitFor(() => daemonA.shutdowns.length === 1, { what: "ShutdownNode on node A" });
    expect(daemonA.shutdowns).toEqual(["node drained"]);
    expect(r.fleet.daemons[1]!.shutdowns).toEqual([]);
    expect((await r.drainDoc("drain-a"))?.state).toBe("COMPLETED");
    expect(await drainGauge()).toBe("0");
    expect(await r.node("drain-a")).toMatchObject({ cordoned: true, drain: null });
  }, 30_000);

  test("at the timeout an instance still holding players is stopped with the kick message", async () => {
    const r = await rig("dr-late");
    const daemonA = r.fleet.daemons[0]!;
    daemonA.setPlayers(r.original._id, 5);
    await waitFor(async () => (await r.instance(r.original._id))?.players === 5, { what: "5 players" });

    const res = await r.fleet.api(
      "POST",
      `/api/v1/nodes/drain-a/drain?shutdown=false&timeout=2&kickMessage=${encodeURIComponent("Back in 5")}`,
    );
    expect(res.status).toBe(200);
    await r.reach(r.original._id, "DRAINING");
    await r.reach(r.original._id, "STOPPED", 10_000);
    expect(daemonA.stopReasons.get(r.original._id)).toBe("Back in 5");
    await waitFor(async () => (await r.drainDoc("drain-a"))?.state === "COMPLETED", {
      what: "the drain to complete",
    });
    expect(daemonA.shutdowns).toEqual([]);
  }, 30_000);

  test("an undrain before the end lets the DRAINING instance serve again", async () => {
    const r = await rig("dr-undo");
    r.fleet.daemons[0]!.setPlayers(r.original._id, 2);
    await waitFor(async () => (await r.instance(r.original._id))?.players === 2, { what: "2 players" });
    expect((await r.fleet.api("POST", "/api/v1/nodes/drain-a/drain?timeout=600")).status).toBe(200);
    await r.reach(r.original._id, "DRAINING");
    await waitFor(async () => (await r.drainDoc("drain-a"))?.drainingInstanceIds.length === 1, {
      what: "the intent to record the draining instance",
    });

    const undrain = await r.fleet.api("POST", "/api/v1/nodes/drain-a/undrain");
    expect(undrain.status).toBe(200);
    expect(await undrain.json()).toMatchObject({ state: "ONLINE", cordoned: false, drain: null });
    await r.reach(r.original._id, "RUNNING");
    await waitFor(async () => (await r.drainDoc("drain-a"))?.state === "CANCELLED", {
      what: "the intent to be cancelled",
    });
    expect(r.fleet.daemons[0]!.shutdowns).toEqual([]);
  }, 30_000);
});

describe("POST /nodes/{id}/shutdown", () => {
  test("sends ShutdownNode at once without draining; 409 for a node that is not connected", async () => {
    fleet = await startFleet({ daemons: 2, nodeMemoryMb: 8192, nodeIds: ["sd-a", "sd-b"], connect: 1 });
    const res = await fleet.api("POST", "/api/v1/nodes/sd-a/shutdown");
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: "SHUTDOWN_REQUESTED", delivery: "sent" });
    await waitFor(() => fleet!.daemons[0]!.shutdowns.length === 1, { what: "ShutdownNode" });
    expect(fleet.daemons[0]!.shutdowns[0]).toBe("shutdown requested by admin");
    const node = (await fleet.controller.nodes.get("sd-a"))!;
    expect(node.drain).toBeNull();
    expect(node.cordoned).toBe(false);

    await fleet.daemons[1]!.connect(fleet.grpcAddress);
    await fleet.daemons[1]!.disconnect();
    await waitFor(async () => (await fleet!.controller.nodes.get("sd-b"))?.connected === false, {
      what: "sd-b disconnected",
    });
    expect((await fleet.api("POST", "/api/v1/nodes/sd-b/shutdown")).status).toBe(409);
    expect((await fleet.api("POST", "/api/v1/nodes/nope/shutdown")).status).toBe(404);
    const audit = (await (await fleet.api("GET", "/api/v1/audit?resourceId=sd-a")).json()) as {
      data: Array<{ action: string }>;
    };
    expect(audit.data.map((a) => a.action)).toContain("node.shutdown");
  }, 30_000);
});
