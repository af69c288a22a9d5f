import { describe, expect, test } from "bun:test";
import type { SchedGroup, SchedInstance } from "../../../src/controller/scheduler/types.ts";
import {
  apply,
  diagnostic,
  group,
  instance,
  liveOf,
  node,
  ofKind,
  runUntilStable,
  T0,
  tick,
  type World,
  world,
} from "./harness.ts";

const nodes = [node("n1", { totalMemoryMb: 65_536 }), node("n2", { totalMemoryMb: 65_536 })];

/** A group with RUNNING instances carrying the given player counts, spread over n1/n2. */
function fleet(g: SchedGroup, players: readonly number[], extra: Partial<World> = {}): World {
  const instances: SchedInstance[] = players.map((p, k) =>
    instance(`${g.name}-${k + 1}`, g.name, k % 2 === 0 ? "n1" : "n2", { port: 30000 + k, players: p }),
  );
  return world({ groups: [g], nodes, instances, ...extra });
}

const dynamic = (fields: Partial<SchedGroup> = {}) =>
  group("lobby", { scalingMode: "DYNAMIC", minInstances: 1, maxInstances: 10, ...fields });

describe("STATIC", () => {
  test("converges to exactly min with deterministic IDs and then stays put", () => {
    const run = runUntilStable(
      world({ groups: [group("proxy", { scalingMode: "STATIC", minInstances: 3 })], nodes }),
    );
    expect(run.ticks).toBe(2);
    expect(ofKind(run.results[0]!, "place").map((p) => p.instanceId)).toEqual([
      "proxy-1",
      "proxy-2",
      "proxy-3",
    ]);
    expect(liveOf(run.world, "proxy")).toHaveLength(3);
  });

  test("uses the declared static names first", () => {
    const g = group("hub", {
      scalingMode: "STATIC",
      minInstances: 2,
      staticInstanceNames: ["alpha", "beta"],
    });
    expect(ofKind(tick(world({ groups: [g], nodes })), "place").map((p) => p.instanceId)).toEqual([
      "alpha",
      "beta",
    ]);
  });

  test("a crashed instance is replaced under its own ID, even during a scaling cooldown", () => {
    const w = fleet(group("proxy", { scalingMode: "STATIC", minInstances: 2 }), [5, 5], {
      lastScaleAt: { proxy: T0 },
    });
    w.instances[1] = { ...w.instances[1]!, state: "CRASHED" };
    const placed = ofKind(tick(w), "place");
    expect(placed.map((p) => p.instanceId)).toEqual(["proxy-2"]);
  });

  test("above min, empty instances are stopped and occupied ones are left running", () => {
    const w = fleet(group("proxy", { scalingMode: "STATIC", minInstances: 2 }), [0, 7, 0, 3, 0]);
    const result = tick(w);
    expect(ofKind(result, "stop").map((s) => s.instance)).toEqual(["proxy-5", "proxy-3", "proxy-1"]);
    const w2 = fleet(group("proxy", { scalingMode: "STATIC", minInstances: 2 }), [4, 7, 0, 3, 0]);
    const partial = tick(w2);
    expect(ofKind(partial, "stop").map((s) => s.instance)).toEqual(["proxy-5", "proxy-3"]);
    expect(diagnostic(partial, "proxy").reason).toContain("1 occupied instance(s) left running");
  });

  test("ignores load: a full STATIC group does not grow", () => {
    const w = fleet(group("proxy", { scalingMode: "STATIC", minInstances: 2 }), [100, 100]);
    expect(tick(w).actions).toEqual([]);
  });
});

describe("DYNAMIC scale-up", () => {
  test("average load at or above the target adds enough instances to bring it back under", () => {
    // 170 players over 2 × 100 slots = 0.85 ≥ 0.8 → ceil(170 / 80) = 3 instances → add 1.
    const result = tick(fleet(dynamic(), [90, 80]));
    expect(ofKind(result, "place")).toHaveLength(1);
    expect(result.cooldownStamps).toEqual(["lobby"]);
    // 200 players at a 0.5 target → ceil(200 / 50) = 4 → add 2.
    expect(ofKind(tick(fleet(dynamic({ scaleUpThreshold: 0.5 }), [100, 100])), "place")).toHaveLength(2);
  });

  test("one quiet instance does not block scale-up (average, not every instance)", () => {
    const result = tick(fleet(dynamic(), [100, 100, 60]));
    expect(ofKind(result, "place")).toHaveLength(1);
    expect(diagnostic(result, "lobby").reason).toContain("utilisation 0.87");
  });

  test("load below the target adds nothing", () => {
    const result = tick(fleet(dynamic({ minInstances: 2 }), [70, 80]));
    expect(result.actions).toEqual([]);
    expect(result.cooldownStamps).toEqual([]);
  });

  test("a degraded TPS adds one instance; a TPS of 0 means no data", () => {
    const degraded = fleet(dynamic({ minInstances: 2 }), [10, 10]);
    degraded.instances[0] = { ...degraded.instances[0]!, tps1m: 15 };
    expect(ofKind(tick(degraded), "place")).toHaveLength(1);
    const noData = fleet(dynamic({ minInstances: 2 }), [10, 10]);
    noData.instances[0] = { ...noData.instances[0]!, tps1m: 0 };
    expect(ofKind(tick(noData), "place")).toHaveLength(0);
  });

  test("never above max, with the reason saying so", () => {
    const result = tick(fleet(dynamic({ maxInstances: 2 }), [100, 100]));
    expect(ofKind(result, "place")).toHaveLength(0);
    expect(diagnostic(result, "lobby").reason).toContain("at maximum (2)");
    const capped = tick(fleet(dynamic({ maxInstances: 3, scaleUpThreshold: 0.25 }), [100, 100]));
    expect(ofKind(capped, "place")).toHaveLength(1);
  });

  test("starts already in flight count toward the instances the load asks for", () => {
    const w = fleet(dynamic(), [90, 80]);
    w.instances.push(instance("lobby-3", "lobby", "n1", { state: "SCHEDULED", port: 30010 }));
    const result = tick(w);
    expect(ofKind(result, "place")).toHaveLength(0);
    expect(diagnostic(result, "lobby").reason).toContain("1 start(s) in flight");
  });

  test("no RUNNING instance means no load to measure", () => {
    const w = fleet(dynamic(), []);
    w.instances.push(instance("lobby-1", "lobby", "n1", { state: "STARTING" }));
    const result = tick(w);
    expect(result.actions).toEqual([]);
    expect(diagnostic(result, "lobby").reason).toStartWith("no RUNNING instances to measure load");
    // At its count only once the node confirms it: a start still pending is "converging", not "ok".
    expect(diagnostic(result, "lobby").status).toBe("converging");
  });

  test("live player counts override the instance record", () => {
    const w = fleet(dynamic(), [0, 0], { playerCounts: { "lobby-1": 95, "lobby-2": 90 } });
    expect(ofKind(tick(w), "place")).toHaveLength(1);
  });
});

describe("cooldown", () => {
  test("blocks load scaling inside the window and lets it through after", () => {
    const hot = (lastScale: number) => fleet(dynamic(), [90, 80], { lastScaleAt: { lobby: lastScale } });
    const inside = tick(hot(T0 - 30_000));
    expect(ofKind(inside, "place")).toHaveLength(0);
    expect(diagnostic(inside, "lobby").status).toBe("cooldown");
    expect(ofKind(tick(hot(T0 - 60_001)), "place")).toHaveLength(1);
  });

  test("falls back to the scheduler-wide cooldown when the group has none", () => {
    const w = fleet(dynamic({ scaleCooldownSeconds: 0 }), [90, 80], {
      lastScaleAt: { lobby: T0 - 100_000 },
      settings: { scalingCooldownSeconds: 120 },
    });
    expect(ofKind(tick(w), "place")).toHaveLength(0);
    expect(ofKind(tick({ ...w, settings: { scalingCooldownSeconds: 90 } }), "place")).toHaveLength(1);
  });

  test("never blocks restoring the minimum", () => {
    const w = fleet(dynamic({ minInstances: 3 }), [0], { lastScaleAt: { lobby: T0 } });
    const result = tick(w);
    expect(ofKind(result, "place")).toHaveLength(2);
    expect(result.cooldownStamps).toEqual([]);
  });

  test("a scale-up stamps the cooldown, so the next tick holds even under the same load", () => {
    const w = fleet(dynamic(), [90, 80]);
    const first = tick(w);
    const next = apply(w, first);
    expect(next.lastScaleAt.lobby).toBe(T0);
    expect(ofKind(tick(next), "place")).toHaveLength(0);
  });
});

describe("DYNAMIC scale-down", () => {
  test("stops exactly one empty instance that has been up long enough, and stamps the cooldown", () => {
    const result = tick(fleet(dynamic(), [10, 0, 0]));
    expect(ofKind(result, "stop").map((s) => s.instance)).toEqual(["lobby-3"]);
    expect(result.cooldownStamps).toEqual(["lobby"]);
  });

  test("never stops an occupied instance", () => {
    const result = tick(fleet(dynamic(), [5, 3, 1]));
    expect(ofKind(result, "stop")).toHaveLength(0);
    expect(diagnostic(result, "lobby").reason).toContain("no empty instance up longer than 300s");
  });

  test("never goes below min", () => {
    expect(ofKind(tick(fleet(dynamic({ minInstances: 3 }), [0, 0, 0])), "stop")).toHaveLength(0);
  });

  test("leaves recently started instances alone", () => {
    const w = fleet(dynamic(), [10, 0]);
    w.instances[1] = { ...w.instances[1]!, startedAt: T0 - 100_000 };
    expect(ofKind(tick(w), "stop")).toHaveLength(0);
  });

  test("waits out the cooldown", () => {
    const w = fleet(dynamic(), [10, 0, 0], { lastScaleAt: { lobby: T0 - 10_000 } });
    expect(ofKind(tick(w), "stop")).toHaveLength(0);
  });

  test("does not remove capacity the remaining instances would need (no flapping)", () => {
    // 150 players on 3 × 100: after removal 150 / 200 = 0.75 < 0.8 → allowed.
    expect(ofKind(tick(fleet(dynamic(), [80, 70, 0])), "stop")).toHaveLength(1);
    // 170 players: 170 / 200 = 0.85 would trigger a scale-up next tick → not allowed.
    expect(ofKind(tick(fleet(dynamic(), [90, 80, 0])), "stop")).toHaveLength(0);
  });

  test("above max, empty instances are stopped down to max", () => {
    const result = tick(fleet(dynamic({ maxInstances: 2 }), [10, 0, 0, 5]));
    expect(ofKind(result, "stop").map((s) => s.instance)).toEqual(["lobby-3", "lobby-2"]);
  });
});

describe("MANUAL", () => {
  const manual = (fields: Partial<SchedGroup> = {}) =>
    group("event", { scalingMode: "MANUAL", minInstances: 2, maxInstances: 4, ...fields });

  test("does nothing without a request, even below min and under load", () => {
    const result = tick(fleet(manual(), [100]));
    expect(result.actions).toEqual([]);
    expect(diagnostic(result, "event")).toMatchObject({ status: "manual", reason: "manual scaling" });
  });

  test("a start request places that many, up to max", () => {
    const result = tick(fleet(manual(), [10], { startRequests: [{ group: "event", count: 2 }] }));
    expect(ofKind(result, "place")).toHaveLength(2);
    expect(result.requestsServed).toEqual({ event: 2 });
    const capped = tick(fleet(manual(), [10, 10], { startRequests: [{ group: "event", count: 5 }] }));
    expect(ofKind(capped, "place")).toHaveLength(2);
    const full = tick(fleet(manual(), [1, 1, 1, 1], { startRequests: [{ group: "event", count: 1 }] }));
    expect(ofKind(full, "place")).toHaveLength(0);
    expect(diagnostic(full, "event").reason).toBe("manual start refused: at maxInstances (4)");
  });

  test("a scale request moves to the target, stopping only empty instances and never below min", () => {
    const up = tick(fleet(manual(), [1], { scaleRequests: [{ group: "event", instances: 3 }] }));
    expect(ofKind(up, "place")).toHaveLength(2);
    const down = tick(fleet(manual(), [0, 5, 0, 0], { scaleRequests: [{ group: "event", instances: 0 }] }));
    expect(ofKind(down, "stop").map((s) => s.instance)).toEqual(["event-4", "event-3"]);
  });

  test("instances of a MANUAL group are not replaced when they crash", () => {
    const w = fleet(manual(), [1, 1]);
    w.instances[0] = { ...w.instances[0]!, state: "CRASHED" };
    expect(tick(w).actions).toEqual([]);
  });
});

describe("start requests on a DYNAMIC group", () => {
  test("add instances up to max and are reported as served", () => {
    const result = tick(
      fleet(dynamic({ maxInstances: 3 }), [1], { startRequests: [{ group: "lobby", count: 5 }] }),
    );
    expect(ofKind(result, "place")).toHaveLength(2);
    expect(result.requestsServed).toEqual({ lobby: 2 });
    expect(result.cooldownStamps).toEqual([]);
  });
});

describe("holds", () => {
  test("a group in maintenance is paused: nothing placed or stopped, instances left running", () => {
    const w = fleet(dynamic({ minInstances: 3, maintenance: true }), [0, 100]);
    const result = tick(w);
    expect(result.actions).toEqual([{ kind: "pause", group: "lobby", reason: "maintenance mode" }]);
    expect(diagnostic(result, "lobby").status).toBe("paused");
  });

  test("a crash-loop paused group is not replaced or scaled", () => {
    const w = fleet(group("proxy", { scalingMode: "STATIC", minInstances: 3, paused: true }), [1]);
    expect(tick(w).actions).toEqual([{ kind: "pause", group: "proxy", reason: "crash loop paused" }]);
  });

  test("global maintenance pauses every group", () => {
    const w = world({
      groups: [group("a", { minInstances: 1 }), group("b", { minInstances: 1 })],
      nodes,
      globalMaintenance: true,
    });
    expect(tick(w).actions).toEqual([
      { kind: "pause", group: "a", reason: "global maintenance" },
      { kind: "pause", group: "b", reason: "global maintenance" },
    ]);
  });

  test("a paused group ignores start requests", () => {
    const w = fleet(dynamic({ paused: true }), [1], { startRequests: [{ group: "lobby", count: 1 }] });
    expect(ofKind(tick(w), "place")).toHaveLength(0);
  });
});

describe("orphans", () => {
  test("live instances of a group that no longer exists are stopped", () => {
    const w = world({
      nodes,
      instances: [instance("old-1", "old", "n1"), instance("old-2", "old", "n1", { state: "STOPPING" })],
    });
    expect(tick(w).actions).toEqual([
      { kind: "stop", group: "old", instance: "old-1", node: "n1", reason: "group old no longer exists" },
    ]);
  });
});

describe("group status counts what the node confirms", () => {
  test("a STATIC group whose instances are placed but not RUNNING is converging, then ok", () => {
    const core = group("core", { scalingMode: "STATIC", minInstances: 2 });
    const withStates = (second: "SCHEDULED" | "RUNNING") =>
      world({
        groups: [core],
        nodes,
        instances: [
          instance("core-1", "core", "n1", { port: 30000 }),
          instance("core-2", "core", "n2", { port: 30001, state: second }),
        ],
      });
    const pending = tick(withStates("SCHEDULED"));
    expect(diagnostic(pending, "core").status).toBe("converging");
    expect(diagnostic(pending, "core").reason).toContain("1 of 2 RUNNING");
    expect(ofKind(pending, "place")).toHaveLength(0);
    expect(diagnostic(tick(withStates("RUNNING")), "core").status).toBe("ok");
  });
});

describe("scheduler.cpuHardLimit", () => {
  test("a busy host is refused at the default limit and used when the rule is turned off", () => {
    const busy = [node("n1", { cpuUsage: 1 })];
    const base = { groups: [group("core", { scalingMode: "STATIC", minInstances: 1 })], nodes: busy };
    const refused = tick(world(base));
    expect(ofKind(refused, "place")).toHaveLength(0);
    expect(diagnostic(refused, "core").status).toBe("unplaced");
    expect(ofKind(tick(world({ ...base, settings: { cpuHardLimit: 1.5 } })), "place")).toHaveLength(1);
  });
});
