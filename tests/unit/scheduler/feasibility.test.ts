import { describe, expect, test } from "bun:test";
import { explainPlacement } from "../../../src/controller/scheduler/index.ts";
import { isAppError } from "../../../src/core/errors.ts";
import { diagnostic, group, instance, node, ofKind, tick, world } from "./harness.ts";

const one = (fields: Parameters<typeof group>[1] = {}) => group("lobby", { minInstances: 1, ...fields });

describe("feasibility", () => {
  test("only ONLINE, uncordoned nodes take placements", () => {
    const w = world({
      groups: [one({ minInstances: 6 })],
      nodes: [
        node("a", { state: "DRAINING" }),
        node("b", { state: "UNREACHABLE" }),
        node("c", { state: "OFFLINE" }),
        node("d", { state: "CORDONED" }),
        node("e", { cordoned: true }),
        node("f"),
      ],
    });
    const placed = ofKind(tick(w), "place");
    expect(placed).toHaveLength(6);
    expect(new Set(placed.map((p) => p.node))).toEqual(new Set(["f"]));

    const why = explainPlacement("lobby", w);
    expect(why.candidates.map((c) => c.node)).toEqual(["f"]);
    expect(why.rejected).toEqual([
      { node: "a", code: "NOT_ONLINE", reason: "not ONLINE (status=DRAINING)" },
      { node: "b", code: "NOT_ONLINE", reason: "not ONLINE (status=UNREACHABLE)" },
      { node: "c", code: "NOT_ONLINE", reason: "not ONLINE (status=OFFLINE)" },
      { node: "d", code: "NOT_ONLINE", reason: "not ONLINE (status=CORDONED)" },
      { node: "e", code: "CORDONED", reason: "cordoned" },
    ]);
  });

  test("a node whose free memory is below the request is skipped", () => {
    const w = world({
      groups: [one({ memoryMb: 1024 })],
      nodes: [node("a", { totalMemoryMb: 2048, usedMemoryMb: 1500 }), node("b", { totalMemoryMb: 2048 })],
    });
    expect(ofKind(tick(w), "place").map((p) => p.node)).toEqual(["b"]);
    expect(explainPlacement("lobby", w).rejected).toEqual([
      { node: "a", code: "MEMORY", reason: "insufficient memory (need 1024 MB, free 548 MB)" },
    ]);
  });

  test("memory headroom is kept free on top of the request", () => {
    const nodes = [node("a", { totalMemoryMb: 1024 })];
    const exact = world({ groups: [one({ memoryMb: 1024 })], nodes });
    expect(ofKind(tick(exact), "place")).toHaveLength(1);
    const withHeadroom = { ...exact, settings: { memoryHeadroomMb: 256 } };
    expect(ofKind(tick(withHeadroom), "place")).toHaveLength(0);
    expect(explainPlacement("lobby", withHeadroom).rejected[0]?.reason).toBe(
      "insufficient memory (need 1024 MB + 256 MB headroom, free 1024 MB)",
    );
  });

  test("reservations not yet in the heartbeat still count as used memory", () => {
    const pending = [0, 1, 2].map((k) =>
      instance(`other-${k + 1}`, "other", "a", { state: "SCHEDULED", port: 31000 + k, memoryMb: 1024 }),
    );
    const w = world({
      groups: [one({ memoryMb: 2048 }), group("other", { portRangeStart: 31000, portRangeEnd: 31010 })],
      nodes: [node("a", { totalMemoryMb: 4096, usedMemoryMb: 0 })],
      instances: pending,
    });
    expect(ofKind(tick(w), "place").filter((p) => p.group === "lobby")).toHaveLength(0);
    expect(explainPlacement("lobby", w).rejected[0]?.code).toBe("MEMORY");
  });

  test("CPU usage plus the reservation must stay within the hard limit", () => {
    const w = world({
      groups: [one({ cpuReservation: 0.1 })],
      nodes: [node("a", { cpuUsage: 0.9 }), node("b", { cpuUsage: 0.5 }), node("c", { cpuUsage: 0.97 })],
    });
    expect(ofKind(tick(w), "place").map((p) => p.node)).toEqual(["b"]);
    const codes = explainPlacement("lobby", w).rejected.map((r) => [r.node, r.code]);
    expect(codes).toEqual([
      ["a", "CPU"],
      ["c", "CPU"],
    ]);
  });

  test("a disk reservation needs that much free disk", () => {
    const w = world({
      groups: [one({ diskReservationMb: 5000 })],
      nodes: [node("a", { freeDiskMb: 4000 }), node("b", { freeDiskMb: 6000 }), node("c")],
    });
    expect(explainPlacement("lobby", w).rejected.map((r) => r.node)).toEqual(["a"]);
    expect(ofKind(tick({ ...w, nodes: [w.nodes[0]!] }), "place")).toHaveLength(0);
  });

  test("the lowest free port of the group's range is allocated; a full range rejects the node", () => {
    const w = world({
      groups: [one({ portRangeStart: 30000, portRangeEnd: 30002 })],
      nodes: [node("a", { usedPorts: [30000, 30001, 30002] }), node("b", { usedPorts: [30000] })],
    });
    const [place] = ofKind(tick(w), "place");
    expect(place).toMatchObject({ node: "b", port: 30001 });
    expect(explainPlacement("lobby", w).rejected).toEqual([
      { node: "a", code: "PORTS", reason: "no free port in range 30000-30002 (3 of 3 used)" },
    ]);
  });

  test("affinity needs every label (exact or presence); anti-affinity excludes any match", () => {
    const nodes = [
      node("eu-1", { labels: { region: "eu", gpu: "true" } }),
      node("eu-2", { labels: { region: "eu", ssd: "yes" } }),
      node("us-1", { labels: { region: "us", ssd: "yes" } }),
    ];
    const w = world({
      groups: [one({ minInstances: 3, nodeAffinity: ["region=eu", "ssd"], nodeAntiAffinity: ["gpu=true"] })],
      nodes,
    });
    const placed = ofKind(tick(w), "place");
    expect(placed).toHaveLength(3);
    expect(new Set(placed.map((p) => p.node))).toEqual(new Set(["eu-2"]));
    expect(explainPlacement("lobby", w).rejected).toEqual([
      { node: "eu-1", code: "AFFINITY", reason: "missing required affinity label 'ssd'" },
      { node: "us-1", code: "AFFINITY", reason: "missing required affinity label 'region=eu'" },
    ]);
    const anti = world({ groups: [one({ minInstances: 6, nodeAntiAffinity: ["gpu=true"] })], nodes });
    expect(new Set(ofKind(tick(anti), "place").map((p) => p.node))).toEqual(new Set(["eu-2", "us-1"]));
    expect(explainPlacement("lobby", anti).rejected).toEqual([
      { node: "eu-1", code: "ANTI_AFFINITY", reason: "excluded by anti-affinity label 'gpu=true'" },
    ]);
  });

  test("no eligible node: nothing is placed, a wait is emitted and each node's reason is reported", () => {
    const w = world({
      groups: [one({ minInstances: 2, memoryMb: 4096 })],
      nodes: [node("a", { totalMemoryMb: 2048 }), node("b", { cordoned: true })],
    });
    const result = tick(w);
    expect(ofKind(result, "place")).toHaveLength(0);
    expect(ofKind(result, "wait")).toEqual([
      { kind: "wait", group: "lobby", reason: "no eligible node for 2 instance(s) (1 MEMORY, 1 CORDONED)" },
    ]);
    const d = diagnostic(result, "lobby");
    expect(d.status).toBe("unplaced");
    expect(d.unplaced).toBe(2);
    expect(d.rejections?.map((r) => r.code)).toEqual(["MEMORY", "CORDONED"]);
  });

  test("explainPlacement ranks candidates best first, with the port and the score terms", () => {
    const w = world({
      groups: [one()],
      nodes: [
        node("small", { totalMemoryMb: 8192, usedMemoryMb: 6144 }),
        node("big", { totalMemoryMb: 8192 }),
      ],
    });
    const why = explainPlacement("lobby", w);
    expect(why.skip).toBeUndefined();
    expect(why.candidates.map((c) => c.node)).toEqual(["big", "small"]);
    const best = why.candidates[0]!;
    expect(best.port).toBe(30000);
    expect(best.score.memory).toBe(1);
    expect(best.score.total).toBeCloseTo(0.35 + 0.25 + 0.15 + 0.1 + 0.15, 10);
    expect(why.candidates[1]!.score.memory).toBe(0.25);
    expect(ofKind(tick(w), "place")[0]?.node).toBe(why.candidates[0]?.node);
  });

  test("explainPlacement names the hold of a held group and refuses an unknown group", () => {
    const w = world({
      groups: [one({ maintenance: true }), group("ops", { scalingMode: "MANUAL" })],
      nodes: [node("a")],
    });
    expect(explainPlacement("lobby", w).skip).toBe("maintenance mode");
    expect(explainPlacement("ops", w).skip).toBe("manual scaling");
    expect(
      explainPlacement("ops", { ...w, startRequests: [{ group: "ops", count: 1 }] }).skip,
    ).toBeUndefined();
    const cycle = world({
      groups: [group("a", { dependsOn: ["b"] }), group("b", { dependsOn: ["a"] })],
      nodes: [node("n1")],
    });
    expect(explainPlacement("a", cycle).skip).toBe("dependency cycle among a, b");
    let caught: unknown;
    try {
      explainPlacement("ghost", w);
    } catch (err) {
      caught = err;
    }
    expect(isAppError(caught, "NOT_FOUND")).toBe(true);
  });
});
