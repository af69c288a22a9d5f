import { afterEach, describe, expect, test } from "bun:test";
import type { NodeDoc } from "../../../../src/controller/nodes/node-doc.ts";
import type { DrainDoc } from "../../../../src/controller/scheduler/loop/drain-workflow.ts";
import { waitFor } from "../../../support/wait.ts";
import { type Rig, rig } from "./fixture.ts";

let r: Rig;
afterEach(async () => {
  await r.close();
});

/** Records what the loop hands to the ShutdownNode sender. */
class RecordingShutdowns {
  readonly delivered: string[] = [];
  async deliverPending(nodes: readonly NodeDoc[]): Promise<void> {
    for (const n of nodes) if (n.shutdownRequest) this.delivered.push(n._id);
  }
}

async function drain(nodeId: string, fields: { shutdown?: boolean; deadlineIn?: number } = {}) {
  await r.store.collection<NodeDoc>("nodes").update(nodeId, {
    state: "DRAINING",
    cordoned: true,
    drain: {
      requestedAt: r.clock.t,
      deadlineAt: r.clock.t + (fields.deadlineIn ?? 600_000),
      shutdown: fields.shutdown ?? false,
      kickMessage: "Bye",
      requestedBy: "admin",
      cordonedBefore: false,
    },
  });
}

const nodeDoc = async (id: string) => (await r.store.collection<NodeDoc>("nodes").get(id))!;
const intent = (id: string) => r.store.collection<DrainDoc>("workflow_drains").get(id);

/** One RUNNING instance of a STATIC group on node-a, with `players`; node-b is free. */
async function occupied(players: number): Promise<string> {
  await r.addNode("node-a");
  await r.addGroup({ name: "lobby", scalingMode: "STATIC", minInstances: 1, maxInstances: 1 });
  await r.loop().tickOnce();
  const [inst] = await r.instances();
  await r.setInstance(inst!._id, { state: "RUNNING", players, startedAt: r.clock.t });
  await r.addNode("node-b");
  return inst!._id;
}

describe("drain workflow", () => {
  test("an occupied instance is replaced, then DRAINING under the group fence until its players leave", async () => {
    r = await rig();
    const id = await occupied(4);
    await drain("node-a");
    const loop = r.loop();
    await loop.tickOnce(); // replacement placed
    const replacement = r.lifecycle.places().at(-1)!;
    await r.setInstance(replacement.instanceId, { state: "RUNNING", startedAt: r.clock.t });
    r.clock.advance(5_000);
    await loop.tickOnce();
    expect(r.lifecycle.drains()).toMatchObject([
      { instanceId: id, fence: { scope: "group:lobby" }, reason: expect.stringContaining("4 player(s)") },
    ]);
    expect(r.lifecycle.stops()).toHaveLength(0);
    r.clock.advance(5_000);
    await loop.tickOnce();
    expect(await intent("node-a")).toMatchObject({
      state: "IN_PROGRESS",
      drainingInstanceIds: [id],
      remaining: 1,
      kickMessage: "Bye",
      shutdownAfterDrain: false,
    });
    expect(r.lifecycle.drains()).toHaveLength(1); // not marked twice

    await r.setInstance(id, { players: 0 });
    r.clock.advance(5_000);
    await loop.tickOnce();
    expect(r.lifecycle.stops().map((s) => s.instanceId)).toEqual([id]);
  });

  test("an emptied node stops draining, stays cordoned, owes a ShutdownNode when asked, and is announced once", async () => {
    r = await rig();
    await r.addNode("node-a");
    await drain("node-a", { shutdown: true });
    const shutdowns = new RecordingShutdowns();
    const loop = r.loop({ shutdowns });
    const report = await loop.tickOnce();
    expect(report.drains).toEqual([{ nodeId: "node-a", state: "COMPLETED", remaining: 0 }]);
    const node = await nodeDoc("node-a");
    expect(node).toMatchObject({ state: "ONLINE", cordoned: true, drain: null });
    expect(node.shutdownRequest).toMatchObject({ reason: "node drained", requestedBy: "admin" });
    expect(shutdowns.delivered).toEqual(["node-a"]);
    expect(await intent("node-a")).toMatchObject({ state: "COMPLETED", remaining: 0 });
    await loop.tickOnce();
    expect(r.events.ofType("NODE_DRAIN_COMPLETED")).toHaveLength(1);
    expect(loop.heldScopes()).not.toContain("node-drain:node-a");
  });

  test("shutdown=false owes nothing", async () => {
    r = await rig();
    await r.addNode("node-a");
    await drain("node-a", { shutdown: false });
    await r.loop().tickOnce();
    const node = await nodeDoc("node-a");
    expect(node).toMatchObject({ cordoned: true, drain: null });
    expect(node.shutdownRequest ?? null).toBeNull();
  });

  test("a completion cut short before the node record was updated is finished by the next tick", async () => {
    r = await rig();
    await r.addNode("node-a");
    await drain("node-a", { shutdown: true });
    const requestedAt = (await nodeDoc("node-a")).drain!.requestedAt;
    // The previous controller marked the intent COMPLETED and stopped there.
    await r.store.collection<DrainDoc>("workflow_drains").put({
      _id: "node-a",
      nodeId: "node-a",
      state: "COMPLETED",
      shutdownAfterDrain: true,
      kickMessage: "Bye",
      requestedAt,
      timeoutAt: requestedAt + 600_000,
      requestedBy: "admin",
      drainingInstanceIds: [],
      remaining: 0,
      updatedAt: r.clock.t,
      completedAt: r.clock.t,
    });
    await r.loop().tickOnce();
    expect(await nodeDoc("node-a")).toMatchObject({ drain: null, cordoned: true });
    expect((await nodeDoc("node-a")).shutdownRequest?.requestedBy).toBe("admin");
    expect(r.events.ofType("NODE_DRAIN_COMPLETED")).toHaveLength(1);
  });

  test("a drain requested again replaces the intent instead of cancelling it", async () => {
    r = await rig();
    await occupied(2);
    await drain("node-a");
    const loop = r.loop();
    await loop.tickOnce();
    const first = (await intent("node-a"))!;
    r.clock.advance(10_000);
    await drain("node-a", { deadlineIn: 30_000 });
    await loop.tickOnce();
    const second = (await intent("node-a"))!;
    expect(second.state).toBe("IN_PROGRESS");
    expect(second.requestedAt).toBe(first.requestedAt + 10_000);
    expect(second.timeoutAt).toBe(second.requestedAt + 30_000);
  });

  test("an undrain cancels the intent and lets DRAINING instances serve again", async () => {
    r = await rig();
    const id = await occupied(3);
    await drain("node-a");
    const loop = r.loop();
    await loop.tickOnce();
    await r.setInstance(r.lifecycle.places().at(-1)!.instanceId, { state: "RUNNING" });
    await loop.tickOnce();
    await loop.tickOnce();
    expect((await intent("node-a"))?.drainingInstanceIds).toEqual([id]);

    await r.store.collection<NodeDoc>("nodes").update("node-a", { state: "ONLINE", drain: null });
    await loop.tickOnce();
    expect((await intent("node-a"))?.state).toBe("CANCELLED");
    const undrained = r.lifecycle.calls.filter((c) => c.kind === "undrain").map((c) => c.request);
    expect(undrained).toMatchObject([{ instanceId: id, fence: { scope: "node-drain:node-a" } }]);
    expect((await r.instances()).find((i) => i._id === id)?.state).toBe("RUNNING");
  });
});

describe("loop cadence", () => {
  test("a nudge brings the next tick forward instead of waiting out the interval", async () => {
    r = await rig();
    await r.addNode("node-a");
    const loop = r.loop({ intervalMs: 3_600_000 });
    loop.start();
    await waitFor(() => loop.lastReport() !== undefined, { what: "the first tick" });
    const first = loop.lastReport()!;
    loop.nudge();
    await waitFor(() => loop.lastReport() !== first, { timeoutMs: 2000, what: "a nudged tick" });
    await loop.stop();
  });
});
