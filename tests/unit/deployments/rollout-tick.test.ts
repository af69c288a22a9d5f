/**
 * The rollout inside the scheduler tick: replacements are placed through the same capacity as every
 * other placement, the group's own floor and excess logic leave a rollout's surge alone, and a node
 * drain and a deployment on the same instances never both act on one of them.
 */
import { describe, expect, test } from "bun:test";
import type { TickResult, TickRollout } from "../../../src/controller/scheduler/types.ts";
import {
  apply,
  group,
  instance,
  node,
  ofKind,
  settle,
  T0,
  tick,
  type World,
  world,
} from "../scheduler/harness.ts";
import { knobs } from "./rollout-harness.ts";

function rollout(revision: number, fields: Partial<TickRollout["deployment"]> = {}): TickRollout {
  return {
    group: "lobby",
    deployment: {
      revision,
      strategy: "ROLLING",
      state: "IN_PROGRESS",
      knobs: knobs({ batchSize: 1, maxSurge: 1 }),
      totalInstances: 4,
      sameAs: [],
      ...fields,
    },
  };
}

function start(): World {
  return world({
    groups: [group("lobby", { scalingMode: "STATIC", minInstances: 4, maxInstances: 4 })],
    nodes: [node("n1"), node("n2")],
    instances: [1, 2, 3, 4].map((k) =>
      instance(`lobby-${k}`, "lobby", k % 2 ? "n1" : "n2", { port: 30000 + k, revision: 1 }),
    ),
  });
}

/** The shell's stamping: every placement of this tick carries the target revision. */
function applyAt(w: World, result: TickResult, revision: number): World {
  const placed = new Set(
    result.actions.flatMap((a) => (a.kind === "place" || a.kind === "replace" ? [a.instanceId] : [])),
  );
  const next = apply(w, result);
  return {
    ...next,
    instances: next.instances.map((i) => (placed.has(i.id) ? { ...i, revision, createdAt: w.now } : i)),
  };
}

function runningSince(w: World): World {
  return {
    ...w,
    instances: w.instances.map((i) =>
      i.state === "RUNNING" && i.runningSince === undefined ? { ...i, runningSince: w.now } : i,
    ),
  };
}

describe("rollout inside the scheduler tick", () => {
  test("STATIC group of 4: surge one at a time, never below 4 RUNNING, no excess churn", () => {
    let w = start();
    const stopped: string[] = [];
    let completed = false;
    for (let k = 0; k < 40 && !completed; k++) {
      const result = tick({ ...w, rollouts: [rollout(2)] } as World);
      const outcome = result.rollouts.find((r) => r.group === "lobby")!;
      completed = outcome.decision.verdict === "completed";
      for (const s of ofKind(result, "stop")) {
        expect(stopped).not.toContain(s.instance);
        stopped.push(s.instance);
        // only old instances ever stop
        expect(w.instances.find((i) => i.id === s.instance)?.revision).toBe(1);
      }
      expect(ofKind(result, "place")).toEqual([]);
      w = applyAt(w, result, 2);
      const running = w.instances.filter((i) => i.state === "RUNNING").length;
      expect(running).toBeGreaterThanOrEqual(4);
      w = runningSince(settle({ ...w, now: w.now + 1000 }));
    }
    expect(completed).toBe(true);
    const live = w.instances.filter((i) => i.state !== "STOPPED");
    expect(live.length).toBe(4);
    expect(live.every((i) => i.revision === 2)).toBe(true);
    expect(stopped.sort()).toEqual(["lobby-1", "lobby-2", "lobby-3", "lobby-4"]);
  });

  test("a node drain wins over the deployment: one replacement, one stop for the drained instance", () => {
    let w = start();
    w = { ...w, nodes: [node("n1", { state: "DRAINING" }), node("n2"), node("n3")] };
    const replacementsOf = new Map<string, number>();
    const stops = new Map<string, number>();
    for (let k = 0; k < 40; k++) {
      const result = tick({ ...w, rollouts: [rollout(2)] } as World);
      for (const r of ofKind(result, "replace"))
        replacementsOf.set(r.instance, (replacementsOf.get(r.instance) ?? 0) + 1);
      for (const s of ofKind(result, "stop")) stops.set(s.instance, (stops.get(s.instance) ?? 0) + 1);
      w = runningSince(settle({ ...applyAt(w, result, 2), now: w.now + 1000 }));
      if (result.rollouts[0]?.decision.verdict === "completed") break;
    }
    for (const [id, n] of replacementsOf) expect({ id, n }).toEqual({ id, n: 1 });
    for (const [id, n] of stops) expect({ id, n }).toEqual({ id, n: 1 });
    const live = w.instances.filter((i) => i.state !== "STOPPED");
    expect(live.every((i) => i.revision === 2)).toBe(true);
    expect(live.some((i) => i.node === "n1")).toBe(false);
  });

  test("a crashed canary: its old instance counts again, nothing is placed in its stead", () => {
    let w = start();
    const r = rollout(2, {
      knobs: knobs({ canaryInstances: 1, healthGateEnabled: true, autoRollbackOnFailure: true }),
    });
    w = applyAt(w, tick({ ...w, rollouts: [r] } as World), 2);
    w = {
      ...w,
      now: w.now + 1000,
      instances: w.instances.map((i) => (i.revision === 2 ? { ...i, state: "CRASHED" as const } : i)),
    };
    const result = tick({ ...w, rollouts: [r] } as World);
    expect(result.rollouts[0]!.decision.verdict).toBe("failed");
    expect(result.actions.filter((a) => a.kind !== "wait" && a.kind !== "pause")).toEqual([]);
    expect(T0).toBeLessThan(w.now);
  });
});
