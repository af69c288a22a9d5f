import { describe, expect, test } from "bun:test";
import { explainPlacement, scheduleTick } from "../../../src/controller/scheduler/index.ts";
import { apply, group, instance, memoryOvercommit, node, ofKind, tick, world } from "./harness.ts";

describe("ranking", () => {
  test("more free memory wins when everything else is equal", () => {
    const w = world({
      groups: [group("lobby", { minInstances: 1 })],
      nodes: [
        node("a", { usedMemoryMb: 8192 }),
        node("b", { usedMemoryMb: 2048 }),
        node("c", { usedMemoryMb: 4096 }),
      ],
    });
    expect(ofKind(tick(w), "place")[0]?.node).toBe("b");
  });

  test("lower CPU usage wins when memory is equal", () => {
    const w = world({
      groups: [group("lobby", { minInstances: 1 })],
      nodes: [node("a", { cpuUsage: 0.6 }), node("b", { cpuUsage: 0.2 })],
    });
    expect(ofKind(tick(w), "place")[0]?.node).toBe("b");
  });

  test("a group spreads over identical nodes instead of stacking", () => {
    const w = world({
      groups: [group("lobby", { minInstances: 4 })],
      nodes: [node("a"), node("b"), node("c"), node("d")],
    });
    const nodes = ofKind(tick(w), "place").map((p) => p.node);
    expect(nodes.sort()).toEqual(["a", "b", "c", "d"]);
  });

  test("anti-spread counts the group's own instances, not other groups'", () => {
    // Both nodes carry two instances on the same ports and memory: only whose instances they are differs.
    const w = world({
      groups: [group("lobby", { minInstances: 3 }), group("game")],
      nodes: [node("a"), node("b")],
      instances: [
        instance("lobby-1", "lobby", "a", { port: 30000 }),
        instance("lobby-2", "lobby", "a", { port: 30001 }),
        instance("game-1", "game", "b", { port: 30000 }),
        instance("game-2", "game", "b", { port: 30001 }),
      ],
    });
    expect(ofKind(tick(w), "place")[0]?.node).toBe("b");
  });

  test("a spread constraint spreads over label values rather than nodes", () => {
    const nodes = [
      node("a", { labels: { zone: "z1" }, totalMemoryMb: 65_536 }),
      node("b", { labels: { zone: "z1" }, totalMemoryMb: 65_536 }),
      node("c", { labels: { zone: "z2" }, totalMemoryMb: 32_768 }),
    ];
    const spreadByZone = world({
      groups: [group("lobby", { minInstances: 2, spreadConstraint: "zone" })],
      nodes,
    });
    expect(ofKind(tick(spreadByZone), "place").map((p) => p.node)).toEqual(["a", "c"]);
    const spreadByNode = world({ groups: [group("lobby", { minInstances: 2 })], nodes });
    expect(ofKind(tick(spreadByNode), "place").map((p) => p.node)).toEqual(["a", "b"]);
  });

  test("ties go to the lowest node ID whatever the input order", () => {
    const w = world({
      groups: [group("lobby", { minInstances: 1 })],
      nodes: [node("n3"), node("n1"), node("n2")],
    });
    expect(ofKind(tick(w), "place")[0]?.node).toBe("n1");
    expect(explainPlacement("lobby", w).candidates.map((c) => c.node)).toEqual(["n1", "n2", "n3"]);
  });

  test("one tick never hands out the same memory twice, within a group or across groups", () => {
    const w = world({
      groups: [
        group("a", { minInstances: 3, memoryMb: 1024 }),
        group("b", { minInstances: 3, memoryMb: 1024, portRangeStart: 31000, portRangeEnd: 31100 }),
      ],
      nodes: [node("n1", { totalMemoryMb: 4096 }), node("n2", { totalMemoryMb: 1024 })],
    });
    const result = tick(w);
    expect(ofKind(result, "place")).toHaveLength(5);
    expect(memoryOvercommit(apply(w, result))).toEqual([]);
    expect(result.groups.reduce((sum, g) => sum + g.unplaced, 0)).toBe(1);
  });

  test("the same input always yields the same result", () => {
    const w = world({
      groups: [group("a", { minInstances: 7 }), group("b", { minInstances: 5, dependsOn: [] })],
      nodes: [node("x"), node("y", { cpuUsage: 0.3 }), node("z", { usedMemoryMb: 1000 })],
    });
    expect(scheduleTick(w)).toEqual(scheduleTick(w));
  });
});
