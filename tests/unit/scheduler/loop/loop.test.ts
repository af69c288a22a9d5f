import { afterEach, describe, expect, test } from "bun:test";
import { instrumentCoordination } from "../../../../src/controller/metrics/coordination-metrics.ts";
import type { ScaleActionDoc } from "../../../../src/controller/scheduler/loop/cooldown-book.ts";
import type { DrainDoc } from "../../../../src/controller/scheduler/loop/drain-workflow.ts";
import type { SchedulerInstanceDoc } from "../../../../src/controller/scheduler/loop/world-mapping.ts";
import { type Rig, rig } from "./fixture.ts";

let r: Rig;
afterEach(async () => {
  await r.close();
});

/** Plays the daemons: every SCHEDULED instance is now RUNNING with `players`. */
async function runAll(players = 0): Promise<void> {
  for (const inst of await r.instances()) {
    if (inst.state === "SCHEDULED") {
      await r.setInstance(inst._id, { state: "RUNNING", players, startedAt: r.clock.t });
    }
  }
}

describe("scheduler loop: placement through the lifecycle", () => {
  test("places the missing minimum with the group lease's fence on every call", async () => {
    r = await rig();
    await r.addNode("node-a");
    await r.addGroup({ name: "lobby", minInstances: 3, maxInstances: 5 });
    const loop = r.loop();
    const report = await loop.tickOnce();

    expect(report.ok).toBe(true);
    const places = r.lifecycle.places();
    expect(places).toHaveLength(3);
    const lease = (await r.coord.listLeases()).find((l) => l.scope === "group:lobby");
    expect(lease?.holder).toBe("c1");
    for (const p of places) {
      expect(p.group).toBe("lobby");
      expect(p.node).toBe("node-a");
      expect(p.fence).toEqual({ scope: "group:lobby", token: lease!.token });
    }
    expect(new Set(places.map((p) => p.port)).size).toBe(3);
    expect(r.metrics.ticks).toEqual([{ seconds: expect.any(Number), ok: true, groupsEvaluated: 1 }]);

    // The records written by the lifecycle are read back: nothing more to place.
    await loop.tickOnce();
    expect(r.lifecycle.places()).toHaveLength(3);
  });

  test("skips a group leased by another controller, with the reason, and counts the contention", async () => {
    r = await rig();
    const coord = instrumentCoordination(r.coord, r.metrics);
    await r.addNode("node-a");
    await r.addGroup({ name: "lobby", minInstances: 2 });
    await r.addGroup({ name: "bedwars", minInstances: 1 });
    const other = await r.coord.acquireLease("group:lobby", "c2", 60_000);
    expect(other).not.toBeNull();

    const report = await r.loop({ coord }).tickOnce();
    expect(r.lifecycle.places().map((p) => p.group)).toEqual(["bedwars"]);
    expect(report.waits).toContainEqual({ group: "lobby", reason: "leased by another controller" });
    expect(r.metrics.contended).toBe(1);
    expect(r.metrics.acquired).toBeGreaterThanOrEqual(1);
  });

  test("renews a held lease on later ticks (same token) and releases all leases on stop", async () => {
    r = await rig();
    const coord = instrumentCoordination(r.coord, r.metrics);
    await r.addNode("node-a");
    await r.addGroup({ name: "lobby", minInstances: 1 });
    const loop = r.loop({ coord });
    await loop.tickOnce();
    const first = (await r.coord.listLeases()).find((l) => l.scope === "group:lobby");
    r.clock.advance(15_000);
    await loop.tickOnce();
    const second = (await r.coord.listLeases()).find((l) => l.scope === "group:lobby");
    expect(second?.token).toBe(first!.token);
    expect(second?.ttlMs).toBe(30_000);
    expect(r.metrics.renewed).toBeGreaterThanOrEqual(1);

    await loop.stop();
    expect((await r.coord.listLeases()).some((l) => l.scope === "group:lobby")).toBe(false);
  });

  test("a lease lost mid-group aborts the next step before its side effect", async () => {
    r = await rig();
    await r.addNode("node-a");
    await r.addGroup({ name: "lobby", minInstances: 3 });
    let stolen = false;
    r.lifecycle.before = async () => {
      if (stolen) return;
      stolen = true;
      // Another controller takes over while the first placement is in flight.
      const mine = (await r.coord.listLeases()).find((l) => l.scope === "group:lobby")!;
      await r.coord.releaseLease(mine);
      await r.coord.acquireLease("group:lobby", "c2", 60_000);
    };
    const report = await r.loop().tickOnce();

    expect(r.lifecycle.places()).toHaveLength(1);
    expect(report.actions.map((a) => a.outcome)).toEqual(["applied", "aborted", "aborted"]);
    expect(report.waits.find((w) => w.group === "lobby")?.reason).toMatch(/lease lost/);
  });

  test("a lifecycle write under a superseded fence is refused by the store", async () => {
    r = await rig();
    await r.addNode("node-a");
    await r.addGroup({ name: "lobby", minInstances: 2 });
    r.lifecycle.before = async (call) => {
      if (call.kind !== "place") return;
      // A newer holder already wrote under a higher token for this scope.
      await r.store
        .collection<ScaleActionDoc>("scale_actions")
        .put(
          { _id: "probe", lastScaleAt: 0, controllerId: "c2" },
          { fence: { scope: "group:lobby", token: call.request.fence.token + 5 } },
        )
        .catch(() => undefined);
    };
    const report = await r.loop().tickOnce();
    // The first write raised the high-water mark past the loop's token: both placements are refused.
    expect(report.actions.every((a) => a.outcome === "failed")).toBe(true);
    expect(report.actions[0]?.detail).toMatch(/fenc|stale/i);
  });
});

describe("scheduler loop: cooldown", () => {
  test("is persisted in scale_actions and the coordination mirror, and respected after a restart", async () => {
    r = await rig();
    await r.addNode("node-a");
    await r.addGroup({ name: "bw", minInstances: 1, maxInstances: 5, scaleCooldownSeconds: 120 });
    await r.loop().tickOnce(); // floor: one instance, no cooldown stamp
    await runAll(100);
    const first = r.loop();
    await first.tickOnce(); // full: scale up
    const scaled = r.lifecycle.places().length;
    expect(scaled).toBeGreaterThan(1);
    const stamp = await r.store.collection<ScaleActionDoc>("scale_actions").get("bw");
    expect(stamp?.lastScaleAt).toBe(r.clock.t);
    const mirror = (await r.coord.listLeases()).find((l) => l.scope === "cooldown:bw");
    expect(mirror?.ttlMs).toBe(120_000);
    await first.stop();

    // "Restart": a new loop with the same store; the load is still high.
    await runAll(100);
    r.clock.advance(60_000);
    const second = r.loop();
    const report = await second.tickOnce();
    expect(r.lifecycle.places()).toHaveLength(scaled);
    expect(report.groups.find((g) => g.group === "bw")?.status).toBe("cooldown");

    r.clock.advance(61_000);
    await second.tickOnce();
    expect(r.lifecycle.places().length).toBeGreaterThan(scaled);
  });
});

describe("scheduler loop: drain", () => {
  async function drainNodeA(deadlineIn = 600_000): Promise<void> {
    await r.store.collection("nodes").update("node-a", {
      state: "DRAINING",
      drain: {
        requestedAt: r.clock.t,
        deadlineAt: r.clock.t + deadlineIn,
        shutdown: false,
        kickMessage: "",
        requestedBy: "admin",
      },
    });
  }

  test("replaces elsewhere, stops once the replacement runs, completes once; resumed after a restart", async () => {
    r = await rig();
    await r.addNode("node-a");
    await r.addGroup({ name: "lobby", minInstances: 1, maxInstances: 3, spreadConstraint: "" });
    await r.loop().tickOnce();
    await runAll();
    const [original] = await r.instances();
    expect(original?.node).toBe("node-a");

    await r.addNode("node-b");
    await drainNodeA();
    const first = r.loop();
    await first.tickOnce();
    const replacement = r.lifecycle.places().at(-1)!;
    expect(replacement.node).toBe("node-b");
    expect(replacement.reason).toContain(`replaces ${original!._id}`);
    expect((await r.instances()).find((i) => i._id === replacement.instanceId)?.replaces).toBe(original!._id);
    const intent = await r.store.collection<DrainDoc>("workflow_drains").get("node-a");
    expect(intent?.state).toBe("IN_PROGRESS");
    expect(intent?.remaining).toBe(1);
    expect(r.lifecycle.stops()).toHaveLength(0); // the group must not dip below its minimum
    await first.stop();

    // Controller restart: the new loop picks the drain up from the stored intent.
    await runAll();
    r.clock.advance(15_000);
    // Both daemons re-report to the new controller, which opens its convergence gate.
    for (const id of ["node-a", "node-b"])
      await r.store.collection("nodes").update(id, { lastSeen: r.clock.t });
    const second = r.loop({ convergenceWindowMs: 15_000 });
    await second.tickOnce();
    expect(r.lifecycle.stops().map((s) => s.instanceId)).toEqual([original!._id]);
    expect(r.lifecycle.stops()[0]?.fence.scope).toBe("group:lobby");
    expect(r.lifecycle.places()).toHaveLength(2); // not replaced a second time

    await r.setInstance(original!._id, { state: "STOPPED" });
    r.clock.advance(15_000);
    const done = await second.tickOnce();
    expect(done.drains).toContainEqual({ nodeId: "node-a", state: "COMPLETED", remaining: 0 });
    expect((await r.store.collection<DrainDoc>("workflow_drains").get("node-a"))?.state).toBe("COMPLETED");
    r.clock.advance(15_000);
    await second.tickOnce();
    expect(r.events.ofType("NODE_DRAIN_COMPLETED")).toHaveLength(1);
  });

  test("an undrained node's intent is cancelled", async () => {
    r = await rig();
    await r.addNode("node-a");
    await drainNodeA();
    await r.addGroup({ name: "lobby", minInstances: 0 });
    await r.addNode("node-b");
    const loop = r.loop();
    // an instance keeps the drain open
    await r.store
      .collection<SchedulerInstanceDoc>("instances")
      .put({ _id: "lobby-1", group: "lobby", node: "node-a", state: "STOPPING", port: 30000 });
    await loop.tickOnce();
    expect((await r.store.collection<DrainDoc>("workflow_drains").get("node-a"))?.state).toBe("IN_PROGRESS");
    await r.store.collection("nodes").update("node-a", { state: "ONLINE", drain: null });
    await loop.tickOnce();
    expect((await r.store.collection<DrainDoc>("workflow_drains").get("node-a"))?.state).toBe("CANCELLED");
  });
});

describe("scheduler loop: convergence gate", () => {
  test("until nodes report, only the missing minimum is placed; scale-ups and replacements wait", async () => {
    r = await rig();
    await r.addNode("node-a", { lastSeen: r.clock.t - 60_000 });
    await r.addGroup({ name: "lobby", minInstances: 2, maxInstances: 6 });
    await r.addGroup({ name: "bw", minInstances: 1, maxInstances: 6 });
    await r.store.collection<SchedulerInstanceDoc>("instances").put({
      _id: "bw-1",
      group: "bw",
      node: "node-a",
      state: "RUNNING",
      port: 30050,
      players: 100,
      startedAt: r.clock.t - 3_600_000,
    });

    const loop = r.loop({ convergenceWindowMs: 15_000 });
    loop.start();
    await loop.stop(); // start() set the gate's clock; ticks are driven by hand below
    const report = await loop.tickOnce();
    expect(report.convergence).toEqual({ open: false, reported: 0, known: 1 });
    expect(r.lifecycle.places().map((p) => p.group)).toEqual(["lobby", "lobby"]);
    expect(report.waits.find((w) => w.group === "bw")?.reason).toMatch(/waiting for nodes to report/);

    // The node reports: the gate opens and the load decision goes through.
    await r.store.collection("nodes").update("node-a", { lastSeen: r.clock.t + 1 });
    r.clock.advance(1000);
    const open = await loop.tickOnce();
    expect(open.convergence.open).toBe(true);
    expect(r.lifecycle.places().some((p) => p.group === "bw")).toBe(true);
  });
});

describe("scheduler loop: observe-only and failures", () => {
  test("without a lifecycle it computes and reports but changes nothing", async () => {
    r = await rig();
    await r.addNode("node-a");
    await r.addGroup({ name: "lobby", minInstances: 1 });
    const report = await r.loop({ lifecycle: undefined }).tickOnce();
    expect(report.observeOnly).toBe(true);
    expect(report.waits).toContainEqual({
      group: "lobby",
      reason: "observe-only: no instance lifecycle wired",
    });
    expect(await r.instances()).toHaveLength(0);
  });

  test("a failed read counts a tick failure and keeps the last report readable", async () => {
    r = await rig();
    const loop = r.loop({
      maintenance: {
        get: async () => {
          throw new Error("store down");
        },
      },
    });
    const report = await loop.tickOnce();
    expect(report.ok).toBe(false);
    expect(report.error).toBe("store down");
    expect(r.metrics.ticks).toEqual([{ seconds: expect.any(Number), ok: false }]);
    expect(loop.lastReport()).toBe(report);
  });

  test("global maintenance and crash-loop pauses are passed to the core", async () => {
    r = await rig();
    await r.addNode("node-a");
    await r.addGroup({ name: "lobby", minInstances: 1 });
    await r.addGroup({ name: "bw", minInstances: 1 });
    await r.store.collection("groups").update("bw", { crashLoopPausedUntil: r.clock.t + 60_000 });
    const report = await r.loop().tickOnce();
    expect(r.lifecycle.places().map((p) => p.group)).toEqual(["lobby"]);
    expect(report.waits.find((w) => w.group === "bw")?.reason).toBe("crash loop paused");
  });
});

test("a pause recorded by the crash-loop detector (crash_loops) holds the group", async () => {
  r = await rig();
  await r.addNode("node-a");
  await r.addGroup({ name: "lobby", minInstances: 1 });
  await r.store
    .collection<{ _id: string; pausedUntilMs: number }>("crash_loops")
    .put({ _id: "lobby", pausedUntilMs: r.clock.t + 60_000 });
  const report = await r.loop().tickOnce();
  expect(r.lifecycle.places()).toHaveLength(0);
  expect(report.waits).toContainEqual({ group: "lobby", reason: "crash loop paused" });
});
