import { describe, expect, test } from "bun:test";
import type { SchedNode } from "../../../src/controller/scheduler/types.ts";
import {
  advance,
  apply,
  changesSomething,
  diagnostic,
  group,
  instance,
  live,
  liveOf,
  node,
  ofKind,
  runUntilStable,
  settle,
  T0,
  tick,
  type World,
  world,
} from "./harness.ts";

function drainWorld(drained: Partial<SchedNode> = {}): World {
  return world({
    groups: [
      group("lobby", { scalingMode: "STATIC", minInstances: 2 }),
      group("game", { minInstances: 1, maxInstances: 5, portRangeStart: 31000, portRangeEnd: 31100 }),
    ],
    nodes: [node("a", { state: "DRAINING", ...drained }), node("b"), node("c")],
    instances: [
      instance("lobby-1", "lobby", "a", { port: 30000, players: 5 }),
      instance("lobby-2", "lobby", "a", { port: 30001, players: 3 }),
      instance("game-1", "game", "a", { port: 31000, players: 20 }),
      instance("game-2", "game", "b", { port: 31000, players: 10 }),
    ],
  });
}

const runningOf = (w: World, g: string) => liveOf(w, g).filter((i) => i.state === "RUNNING").length;

/** The instance's players left (or some did). */
function withPlayers(w: World, id: string, players: number): World {
  return { ...w, instances: w.instances.map((i) => (i.id === id ? { ...i, players } : i)) };
}

describe("drain", () => {
  test("instances are replaced elsewhere first; none is stopped before its replacement RUNS", () => {
    const w = drainWorld();
    const first = tick(w);
    expect(ofKind(first, "stop")).toEqual([]);
    const replaced = ofKind(first, "replace");
    expect(replaced.map((r) => r.instance).sort()).toEqual(["game-1", "lobby-1", "lobby-2"]);
    expect(replaced.every((r) => r.node !== "a")).toBe(true);

    // Replacements placed but still starting: the old instances keep serving.
    const pending = apply(w, first);
    const waiting = tick(pending);
    expect(waiting.actions.filter((a) => a.kind !== "pause" && a.kind !== "wait")).toEqual([]);

    // Replacements RUNNING: the old instances still have players, so they drain instead of stopping.
    const running = settle(pending);
    const second = tick(running);
    expect(ofKind(second, "stop")).toEqual([]);
    expect(
      ofKind(second, "drain")
        .map((s) => s.instance)
        .sort(),
    ).toEqual(["game-1", "lobby-1", "lobby-2"]);
    expect(ofKind(second, "drain")[0]?.reason).toMatch(
      /^node draining: replacement .+ is RUNNING; \d+ player\(s\) still on it$/,
    );

    // DRAINING instances are kept while players remain and stopped as each one empties.
    const draining = apply(running, second);
    expect(changesSomething(tick(draining))).toBe(false);
    const oneLeft = withPlayers(draining, "lobby-2", 0);
    const third = tick(oneLeft);
    expect(ofKind(third, "stop")).toMatchObject([
      { instance: "lobby-2", reason: expect.stringMatching(/^node draining: replacement .+ is RUNNING$/) },
    ]);
    expect(ofKind(third, "drain")).toEqual([]);
  });

  test("an empty instance the group needs is replaced, then stopped (not drained) once the replacement runs", () => {
    const w = world({
      groups: [group("lobby", { scalingMode: "STATIC", minInstances: 1 })],
      nodes: [node("a", { state: "DRAINING" }), node("b")],
      instances: [instance("lobby-1", "lobby", "a", { players: 0 })],
    });
    const placed = settle(apply(w, tick(w)));
    expect(ofKind(tick(placed), "stop")).toMatchObject([
      { instance: "lobby-1", reason: expect.stringMatching(/^node draining: replacement .+ is RUNNING$/) },
    ]);
  });

  test("at the deadline a DRAINING instance is stopped with the node's kick message as the reason", () => {
    const w = world({
      // Nothing to replace: the group wants none.
      groups: [group("lobby", { scalingMode: "STATIC", minInstances: 0 })],
      nodes: [
        node("a", { state: "DRAINING", drainDeadlineAt: T0 + 60_000, drainKickMessage: "Maintenance!" }),
        node("b"),
      ],
      instances: [
        instance("lobby-1", "lobby", "a", { state: "DRAINING", players: 3 }),
        instance("lobby-2", "lobby", "a", { port: 30001, players: 0 }),
      ],
    });
    expect(ofKind(tick(w), "stop").map((s) => s.instance)).toEqual(["lobby-2"]);
    const late = tick(advance(w, 60_000));
    expect(ofKind(late, "stop")).toMatchObject([
      { instance: "lobby-1", reason: "Maintenance!" },
      { instance: "lobby-2", reason: "node draining: deadline passed" },
    ]);
  });

  test("a drained node ends empty and no group ever drops below its minimum on the way", () => {
    const check = (w: World) => {
      expect(runningOf(w, "lobby")).toBeGreaterThanOrEqual(2);
      expect(runningOf(w, "game")).toBeGreaterThanOrEqual(1);
    };
    const moved = runUntilStable(drainWorld(), { check });
    // Stable while the old instances still serve their players.
    const serving = live(moved.world).filter((i) => i.node === "a");
    expect(serving.map((i) => i.state)).toEqual(["DRAINING", "DRAINING", "DRAINING"]);
    let left = moved.world;
    for (const inst of serving) left = withPlayers(left, inst.id, 0);
    const run = runUntilStable(left, { check });
    expect(live(run.world).filter((i) => i.node === "a")).toEqual([]);
    expect(liveOf(run.world, "lobby")).toHaveLength(2);
    // DYNAMIC keeps its size through a drain: two instances before, two after.
    expect(liveOf(run.world, "game")).toHaveLength(2);
  });

  test("with room for only one replacement, the occupied instance moves first and the rest waits", () => {
    const w = world({
      groups: [group("lobby", { scalingMode: "STATIC", minInstances: 2 })],
      nodes: [node("a", { state: "DRAINING" }), node("b", { totalMemoryMb: 1024 })],
      instances: [
        instance("lobby-1", "lobby", "a", { port: 30000, players: 0 }),
        instance("lobby-2", "lobby", "a", { port: 30001, players: 9 }),
      ],
    });
    const result = tick(w);
    expect(ofKind(result, "replace").map((r) => r.instance)).toEqual(["lobby-2"]);
    expect(ofKind(result, "stop")).toEqual([]);
    expect(ofKind(result, "wait")[0]?.reason).toContain("no eligible node for 1 instance(s)");
    expect(diagnostic(result, "lobby")).toMatchObject({ active: 2, replaced: 1, unplaced: 1 });
  });

  test("past the drain deadline the node is emptied even without replacements", () => {
    const w = world({
      groups: [group("lobby", { scalingMode: "STATIC", minInstances: 1 })],
      nodes: [
        node("a", { state: "DRAINING", drainDeadlineAt: T0 + 60_000 }),
        node("b", { totalMemoryMb: 512 }),
      ],
      instances: [instance("lobby-1", "lobby", "a", { players: 4 })],
    });
    expect(ofKind(tick(w), "stop")).toEqual([]);
    const late = advance(w, 60_000);
    expect(ofKind(tick(late), "stop")).toEqual([
      {
        kind: "stop",
        group: "lobby",
        instance: "lobby-1",
        node: "a",
        reason: "node draining: deadline passed",
      },
    ]);
  });

  test("an instance the group does not need is stopped straight away", () => {
    const w = world({
      groups: [group("lobby", { scalingMode: "STATIC", minInstances: 1 })],
      nodes: [node("a", { state: "DRAINING" }), node("b")],
      instances: [instance("lobby-1", "lobby", "b"), instance("lobby-2", "lobby", "a", { port: 30001 })],
    });
    const result = tick(w);
    expect(ofKind(result, "replace")).toEqual([]);
    expect(ofKind(result, "stop")).toEqual([
      {
        kind: "stop",
        group: "lobby",
        instance: "lobby-2",
        node: "a",
        reason: "node draining: enough instances elsewhere",
      },
    ]);
  });

  test("a paused group's instances are stopped, not replaced; a waiting group's are kept until the deadline", () => {
    const paused = world({
      groups: [group("lobby", { minInstances: 1, maintenance: true })],
      nodes: [node("a", { state: "DRAINING" }), node("b")],
      instances: [instance("lobby-1", "lobby", "a")],
    });
    const pausedTick = tick(paused);
    expect(ofKind(pausedTick, "replace")).toEqual([]);
    expect(ofKind(pausedTick, "stop").map((s) => s.reason)).toEqual([
      "node draining: group held, not replaced",
    ]);

    const waiting = world({
      groups: [group("lobby", { minInstances: 1, dependsOn: ["proxy"] }), group("proxy")],
      nodes: [node("a", { state: "DRAINING", drainDeadlineAt: T0 + 1000 }), node("b")],
      instances: [instance("lobby-1", "lobby", "a")],
    });
    expect(ofKind(tick(waiting), "stop")).toEqual([]);
    expect(ofKind(tick(waiting), "replace")).toEqual([]);
    expect(ofKind(tick(advance(waiting, 1000)), "stop")).toHaveLength(1);
  });

  test("a replacement that crashed is itself replaced; the original keeps serving meanwhile", () => {
    const w = world({
      groups: [group("lobby", { scalingMode: "STATIC", minInstances: 1 })],
      nodes: [node("a", { state: "DRAINING" }), node("b")],
      instances: [
        instance("lobby-1", "lobby", "a", { players: 3 }),
        instance("lobby-2", "lobby", "b", { state: "CRASHED", replaces: "lobby-1" }),
      ],
    });
    const result = tick(w);
    expect(ofKind(result, "replace")).toMatchObject([{ instance: "lobby-1", node: "b" }]);
    expect(ofKind(result, "stop")).toEqual([]);
  });

  test("the drained node is never chosen for a replacement or a new placement", () => {
    const w = drainWorld();
    const run = runUntilStable(w, {
      check: (state) => {
        const onA = live(state).filter((i) => i.node === "a" && i.state === "SCHEDULED");
        expect(onA).toEqual([]);
      },
    });
    expect(run.ticks).toBeGreaterThan(1);
  });

  test("pending instances on a draining node move like running ones", () => {
    const w = world({
      groups: [group("lobby", { scalingMode: "STATIC", minInstances: 1 })],
      nodes: [node("a", { state: "DRAINING" }), node("b")],
      instances: [instance("lobby-1", "lobby", "a", { state: "SCHEDULED" })],
    });
    const run = runUntilStable(w);
    expect(liveOf(run.world, "lobby").map((i) => i.node)).toEqual(["b"]);
  });

  test("an instance already DRAINING or STOPPING on the node is not touched twice", () => {
    const w = world({
      groups: [group("lobby", { minInstances: 0 })],
      nodes: [node("a", { state: "DRAINING" }), node("b")],
      instances: [
        instance("lobby-1", "lobby", "a", { state: "STOPPING" }),
        instance("lobby-2", "lobby", "a", { state: "DRAINING", port: 30001 }),
      ],
    });
    expect(ofKind(tick(w), "stop").map((s) => s.instance)).toEqual(["lobby-2"]);
    expect(ofKind(tick(w), "replace")).toEqual([]);
    const after = settle(apply(w, tick(w)));
    expect(live(after).map((i) => i.id)).toEqual(["lobby-1"]);
  });
});
