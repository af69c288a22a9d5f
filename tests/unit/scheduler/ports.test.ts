import { describe, expect, test } from "bun:test";
import { PortTable } from "../../../src/controller/scheduler/port-table.ts";
import { apply, group, instance, node, ofKind, portCollisions, tick, world } from "./harness.ts";

describe("port table", () => {
  test("finds the lowest free port across word boundaries and inside one word", () => {
    const t = new PortTable(2, 30000, 30200);
    for (let p = 30000; p <= 30070; p++) t.mark(0, p);
    expect(t.firstFree(0, 30000, 30200)).toBe(30071);
    expect(t.firstFree(0, 30005, 30070)).toBe(-1);
    expect(t.firstFree(1, 30033, 30040)).toBe(30033);
    t.mark(0, 30072);
    expect(t.firstFree(0, 30072, 30073)).toBe(30073);
    expect(t.firstFree(1, 30072, 30073)).toBe(30072);
    t.mark(0, 30073);
    expect(t.firstFree(0, 30072, 30073)).toBe(-1);
  });

  test("counts used ports of a range exactly, including partial words at both ends", () => {
    const t = new PortTable(1, 1000, 1200);
    const used = [1000, 1031, 1032, 1063, 1064, 1100, 1199, 1200];
    for (const p of used) t.mark(0, p);
    const count = (a: number, b: number) => used.filter((p) => p >= a && p <= b).length;
    for (const [a, b] of [
      [1000, 1200],
      [1001, 1199],
      [1031, 1032],
      [1033, 1062],
      [1063, 1064],
      [1100, 1100],
      [1150, 1250],
    ] as const) {
      expect(t.usedCount(0, a, b)).toBe(count(a, b));
    }
  });

  test("ports outside the window are never free and never counted", () => {
    const t = new PortTable(1, 30000, 30010);
    t.mark(0, 29999);
    t.mark(0, 40000);
    expect(t.firstFree(0, 29990, 30005)).toBe(-1);
    expect(t.firstFree(0, 30011, 30020)).toBe(-1);
    expect(t.usedCount(0, 29000, 41000)).toBe(0);
  });
});

describe("port allocation", () => {
  test("two groups with overlapping ranges never share a port on one node in one tick", () => {
    const w = world({
      groups: [
        group("a", { minInstances: 2, portRangeStart: 30000, portRangeEnd: 30001 }),
        group("b", { minInstances: 2, portRangeStart: 30001, portRangeEnd: 30002 }),
      ],
      nodes: [node("n1")],
    });
    const result = tick(w);
    const placed = ofKind(result, "place");
    expect(placed.map((p) => `${p.group}:${p.port}`)).toEqual(["a:30000", "a:30001", "b:30002"]);
    expect(portCollisions(apply(w, result))).toEqual([]);
    expect(ofKind(result, "wait").map((x) => x.group)).toEqual(["b"]);
  });

  test("ports held by live instances of any group, and ports the node reports busy, are skipped", () => {
    const w = world({
      groups: [group("a", { minInstances: 1 }), group("b", { minInstances: 2 })],
      nodes: [node("n1", { usedPorts: [30001] })],
      instances: [
        instance("a-1", "a", "n1", { port: 30000 }),
        instance("old-1", "gone", "n1", { port: 30002, state: "STOPPING" }),
        instance("dead-1", "b", "n1", { port: 30003, state: "CRASHED" }),
      ],
    });
    const ports = ofKind(tick(w), "place").map((p) => p.port);
    expect(ports).toEqual([30003, 30004]);
  });

  test("the harness detects a collision (so the property tests can fail)", () => {
    const w = world({
      nodes: [node("n1", { usedPorts: [30005] })],
      instances: [
        instance("a-1", "a", "n1", { port: 30000 }),
        instance("b-1", "b", "n1", { port: 30000 }),
        instance("c-1", "c", "n1", { port: 30005 }),
      ],
    });
    expect(portCollisions(w)).toHaveLength(2);
  });
});
