import { describe, expect, test } from "bun:test";
import { resolveKnobs } from "../../../src/controller/deployments/rollout-knobs.ts";
import { planRollout } from "../../../src/controller/deployments/rollout-planner.ts";
import type { AppError } from "../../../src/core/errors.ts";
import { seededRandom } from "../scheduler/fleet.ts";
import { knobs, RolloutSim } from "./rollout-harness.ts";

describe("rollout planner", () => {
  test("surge rolling, batch 1: every old instance stops only after its replacement RUNS", () => {
    const sim = new RolloutSim({ seed: 1, total: 4, knobs: knobs({ batchSize: 1, maxSurge: 1 }) });
    const end = sim.runToEnd();
    expect(end.verdict).toBe("completed");
    expect(sim.violations).toEqual([]);
    expect(sim.minRunning).toBe(4);
    expect(sim.maxExtra).toBe(1);
    expect(sim.liveAt(sim.revision).length).toBe(4);
    expect(sim.liveAt(sim.revision - 1).length).toBe(0);
  });

  test("maxUnavailable 1 replaces without surge and never drops below total − 1", () => {
    const sim = new RolloutSim({
      seed: 2,
      total: 5,
      knobs: knobs({ batchSize: 2, maxUnavailable: 1, maxSurge: 0 }),
    });
    expect(sim.runToEnd().verdict).toBe("completed");
    expect(sim.violations).toEqual([]);
    expect(sim.minRunning).toBe(4);
    expect(sim.liveAt(sim.revision).length).toBe(5);
  });

  test("a canary wave is held for the gate before the rest", () => {
    const sim = new RolloutSim({
      seed: 3,
      total: 4,
      bootMs: [1000, 1000],
      knobs: knobs({
        batchSize: 3,
        maxSurge: 3,
        canaryInstances: 1,
        healthGateEnabled: true,
        minHealthySeconds: 10,
      }),
    });
    const first = sim.tick();
    expect(first.waveStarted).toEqual(["g-1"]);
    sim.advance(1000); // canary RUNNING
    for (let k = 0; k < 10; k++) {
      const d = sim.tick();
      expect(d.waveStarted).toEqual([]);
      expect(d.steps).toEqual([]);
      sim.advance(1000);
    }
    const promoted = sim.tick();
    expect(promoted.steps.some((s) => s.kind === "stop" && s.instance === "g-1")).toBe(true);
    expect(promoted.waveStarted).toEqual(["g-2", "g-3", "g-4"]);
    expect(sim.runToEnd().verdict).toBe("completed");
    expect(sim.violations).toEqual([]);
  });

  test("a crashing canary fails the rollout: the canary is gone, the old set untouched", () => {
    const sim = new RolloutSim({
      seed: 4,
      total: 3,
      crashNew: true,
      knobs: knobs({ canaryInstances: 1, healthGateEnabled: true, autoRollbackOnFailure: true }),
    });
    const end = sim.runToEnd();
    expect(end.verdict).toBe("failed");
    expect(end.reason).toContain("crashed");
    expect(end.rollbackNeeded).toBe(false);
    expect(sim.liveAt(sim.revision - 1).length).toBe(3);
    expect(sim.stops).toEqual([]);
    expect(sim.violations).toEqual([]);
  });

  test("a replacement that never RUNS fails after replacementTimeoutSeconds and is stopped", () => {
    const sim = new RolloutSim({
      seed: 5,
      total: 2,
      bootMs: [3_600_000, 3_600_001],
      knobs: knobs({ replacementTimeoutSeconds: 20 }),
    });
    const end = sim.runToEnd();
    expect(end.verdict).toBe("failed");
    expect(end.reason).toContain("not RUNNING 20s");
    expect(end.steps.map((s) => s.kind)).toEqual(["stop"]);
  });

  test("a replacement lost with its node is not the revision's crash: the old one is replaced again", () => {
    const sim = new RolloutSim({ seed: 11, total: 2, bootMs: [1000, 1000], knobs: knobs() });
    sim.tick();
    const first = sim.instances.find((i) => i.replaces === "g-1")!;
    first.state = "CRASHED";
    first.lost = true;
    const again = sim.tick();
    expect(again.verdict).toBe("progress");
    expect(again.steps).toEqual([{ kind: "replace", instance: "g-1", reason: "wave of r2" }]);
    // the same crash without the node to blame fails the rollout
    first.lost = false;
    expect(sim.tick().verdict).toBe("failed");
  });

  test("low TPS after stabilization fails the wave", () => {
    const sim = new RolloutSim({
      seed: 6,
      total: 2,
      newTps: 9.5,
      knobs: knobs({ healthGateEnabled: true, minHealthySeconds: 5, minHealthyTps: 18 }),
    });
    const end = sim.runToEnd();
    expect(end.verdict).toBe("failed");
    expect(end.reason).toContain("TPS 9.5 below 18");
  });

  test("pause holds at the wave boundary: no new wave and no new stop; resume completes", () => {
    const sim = new RolloutSim({ seed: 7, total: 4, bootMs: [1000, 1000], knobs: knobs() });
    sim.tick();
    sim.state = "PAUSED";
    sim.advance(1000);
    const finishing = sim.tick(); // the open wave finishes: its old instance stops
    expect(finishing.steps.map((s) => s.kind)).toEqual(["stop"]);
    const stopsAtBoundary = sim.stops.length;
    for (let k = 0; k < 5; k++) {
      sim.advance(1000);
      const d = sim.tick();
      expect(d.verdict).toBe("paused");
      expect(d.steps).toEqual([]);
    }
    expect(sim.stops.length).toBe(stopsAtBoundary);
    sim.state = "IN_PROGRESS";
    expect(sim.runToEnd().verdict).toBe("completed");
  });

  test("instances a node drain owns are left to it", () => {
    const sim = new RolloutSim({ seed: 8, total: 3, knobs: knobs() });
    sim.instances[0]!.onDrainingNode = true;
    const end = sim.runToEnd();
    expect(end.verdict).toBe("completed");
    expect(sim.stops).not.toContain("g-1");
    expect(sim.instances.filter((i) => i.replaces === "g-1")).toEqual([]);
  });

  test("a controller taking over mid-wave decides the same from the records alone", () => {
    const sim = new RolloutSim({ seed: 9, total: 4, knobs: knobs({ batchSize: 2, maxSurge: 2 }) });
    sim.tick();
    sim.advance(2500);
    const snapshot = structuredClone(sim.instances);
    const a = sim.tick();
    // Same records, same clock: a fresh planner (another controller) answers identically.
    const b = new RolloutSim({ seed: 9, total: 4, knobs: knobs({ batchSize: 2, maxSurge: 2 }) });
    b.instances.splice(0, b.instances.length, ...snapshot);
    b.now = sim.now;
    const again = b.tick();
    expect(again.steps).toEqual(a.steps);
    expect(again.progress).toEqual(a.progress);
  });

  test("seeded property: invariants hold over random knobs, timings and pauses", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = seededRandom(seed * 7919);
      const pick = (n: number) => Math.floor(r() * n);
      const total = 1 + pick(12);
      const maxUnavailable = pick(3);
      const k = knobs({
        batchSize: 1 + pick(4),
        maxUnavailable,
        maxSurge: maxUnavailable === 0 ? 1 + pick(3) : pick(3),
        canaryInstances: pick(3),
        healthGateEnabled: r() < 0.5,
        minHealthySeconds: pick(20),
        drainTimeoutSeconds: 1 + pick(30),
      });
      // Half the runs have players on the old instances: they move after a while, or never.
      const withPlayers = r() < 0.5;
      const leaveMs = r() < 0.5 ? pick(40_000) : undefined;
      const sim = new RolloutSim({
        seed,
        total,
        knobs: k,
        bootMs: [200, 1000 + pick(8000)],
        ...(withPlayers ? { players: 1 + pick(5) } : {}),
        ...(withPlayers && leaveMs !== undefined ? { leaveMs } : {}),
      });
      let ended = undefined as ReturnType<RolloutSim["tick"]> | undefined;
      for (let t = 0; t < 5000 && ended === undefined; t++) {
        if (r() < 0.05) sim.state = sim.state === "PAUSED" ? "IN_PROGRESS" : "PAUSED";
        const d = sim.tick();
        if (d.verdict === "completed" || d.verdict === "failed") ended = d;
        else sim.advance(100 + pick(2000));
        if (t > 4000) sim.state = "IN_PROGRESS";
      }
      const context = `seed ${seed} total ${total} knobs ${JSON.stringify(k)}`;
      expect({ context, verdict: ended?.verdict }).toEqual({ context, verdict: "completed" });
      expect({ context, violations: sim.violations }).toEqual({ context, violations: [] });
      expect(sim.liveAt(sim.revision).length).toBe(total);
      expect(sim.liveAt(sim.revision - 1).length).toBe(0);
      // Progress is read from the instances: the last decision counts every live one updated.
      expect(ended?.progress.updated).toBe(total);
      // Every old instance holding players went through DRAINING before it stopped.
      if (withPlayers) expect({ context, drains: sim.drains.length }).toEqual({ context, drains: total });
    }
  });

  test("players on an old instance: drained first, stopped once they moved to a RUNNING one", () => {
    const sim = new RolloutSim({ seed: 21, total: 3, knobs: knobs(), players: 4, leaveMs: 3000 });
    const end = sim.runToEnd();
    expect(end.verdict).toBe("completed");
    expect(sim.violations).toEqual([]);
    expect([...sim.drains].sort()).toEqual(["g-1", "g-2", "g-3"]);
    expect([...sim.stops].sort()).toEqual(["g-1", "g-2", "g-3"]);
    expect(sim.minRunning).toBeGreaterThanOrEqual(3);
  });

  test("players that never move: the old instance stops at drainTimeoutSeconds after DRAINING", () => {
    const sim = new RolloutSim({ seed: 22, total: 2, knobs: knobs({ drainTimeoutSeconds: 7 }), players: 2 });
    const end = sim.runToEnd();
    expect(end.verdict).toBe("completed");
    // the harness flags any stop of an instance holding players before its deadline
    expect(sim.violations).toEqual([]);
    expect(sim.stops.sort()).toEqual(["g-1", "g-2"]);
  });

  test("maxUnavailable without surge room: drained before its replacement is placed, floor kept", () => {
    const sim = new RolloutSim({
      seed: 23,
      total: 3,
      knobs: knobs({ maxUnavailable: 1, maxSurge: 0 }),
      players: 1,
      leaveMs: 2000,
    });
    const end = sim.runToEnd();
    expect(end.verdict).toBe("completed");
    expect(sim.violations).toEqual([]);
    expect(sim.maxExtra).toBe(0);
    expect(sim.drains.sort()).toEqual(["g-1", "g-2", "g-3"]);
  });

  const base = {
    revision: 2,
    strategy: "ROLLING" as const,
    state: "IN_PROGRESS" as const,
    totalInstances: 1,
  };
  const draining = (drainingSince: number) => ({
    id: "g-1",
    state: "DRAINING" as const,
    revision: 1,
    createdAt: 0,
    drainingSince,
    players: 3,
  });
  const replacement = {
    id: "g-2",
    state: "RUNNING" as const,
    revision: 2,
    replaces: "g-1",
    createdAt: 1000,
    runningSince: 2000,
  };

  test("a takeover resumes a drain from the record: waits until the deadline, then stops", () => {
    const k = knobs({ drainTimeoutSeconds: 10 });
    const at = (now: number) =>
      planRollout({
        now,
        deployment: { ...base, knobs: k, sameAs: [] },
        instances: [draining(5000), replacement],
        canPlace: true,
      });
    const before = at(14_999);
    expect(before.steps).toEqual([]);
    expect(before.waveOpen).toBe(true);
    expect(at(15_000).steps).toEqual([
      { kind: "stop", instance: "g-1", reason: "replaced by g-2 (r2); drain deadline passed (3 player(s))" },
    ]);
  });

  test("a failed wave gives its drained old instance back to routing; a stranded up-to-date one too", () => {
    const failed = planRollout({
      now: 6000,
      deployment: { ...base, knobs: knobs(), sameAs: [] },
      instances: [draining(5000), { ...replacement, state: "CRASHED" as const }],
      canPlace: true,
    });
    expect(failed.verdict).toBe("failed");
    expect(failed.steps).toContainEqual({
      kind: "undrain",
      instance: "g-1",
      reason: "deployment r2 failed: keeps serving",
    });
    // The rollback (r3 = r1's content): the old instance is current again and must serve.
    const rollback = planRollout({
      now: 7000,
      deployment: { ...base, revision: 3, knobs: knobs(), sameAs: [1] },
      instances: [draining(5000)],
      canPlace: true,
    });
    expect(rollback.steps).toContainEqual({
      kind: "undrain",
      instance: "g-1",
      reason: "r3 is current: serves again",
    });
  });
});

describe("rollout knobs", () => {
  const ctx = {
    strategy: "ROLLING" as const,
    total: 4,
    evaluationIntervalSeconds: 15,
    startupTimeoutSeconds: 120,
  };
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return (err as AppError).code;
    }
    return "ok";
  };

  test("the spec's trigger checks answer BAD_REQUEST", () => {
    expect(code(() => resolveKnobs({ batchSize: 0 }, ctx))).toBe("BAD_REQUEST");
    expect(code(() => resolveKnobs({ canaryInstances: -1 }, ctx))).toBe("BAD_REQUEST");
    expect(code(() => resolveKnobs({ canaryPercent: 101 }, ctx))).toBe("BAD_REQUEST");
    expect(code(() => resolveKnobs({ canaryPercent: 10, canaryInstances: 1 }, ctx))).toBe("BAD_REQUEST");
    expect(code(() => resolveKnobs({ promotionTimeoutSeconds: 0 }, ctx))).toBe("BAD_REQUEST");
    expect(code(() => resolveKnobs({ minHealthySeconds: -1 }, ctx))).toBe("BAD_REQUEST");
    expect(code(() => resolveKnobs({ drainTimeoutSeconds: 0 }, ctx))).toBe("BAD_REQUEST");
    expect(code(() => resolveKnobs({ drainTimeoutSeconds: 86_401 }, ctx))).toBe("BAD_REQUEST");
  });

  test("combinations that can never progress answer VALIDATION_ERROR", () => {
    expect(code(() => resolveKnobs({ maxUnavailable: 0, maxSurge: 0 }, ctx))).toBe("VALIDATION_ERROR");
    expect(code(() => resolveKnobs({ canaryInstances: 0 }, { ...ctx, strategy: "CANARY" }))).toBe(
      "VALIDATION_ERROR",
    );
  });

  test("defaults: surge of one batch; CANARY turns the gate and auto-rollback on", () => {
    const rolling = resolveKnobs({}, ctx);
    expect(rolling).toMatchObject({
      batchSize: 1,
      maxUnavailable: 0,
      maxSurge: 1,
      promotionTimeoutSeconds: 30,
    });
    expect(rolling.replacementTimeoutSeconds).toBe(120);
    expect(rolling.drainTimeoutSeconds).toBe(60);
    expect(resolveKnobs({ drainTimeoutSeconds: 5 }, ctx).drainTimeoutSeconds).toBe(5);
    const canary = resolveKnobs({}, { ...ctx, strategy: "CANARY" });
    expect(canary).toMatchObject({
      canaryInstances: 1,
      healthGateEnabled: true,
      autoRollbackOnFailure: true,
      minHealthySeconds: 30,
      minHealthyTps: 18,
    });
    expect(resolveKnobs({ canaryPercent: 30 }, ctx).canaryInstances).toBe(2);
  });
});
