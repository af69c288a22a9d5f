import { describe, expect, test } from "bun:test";
import { evaluationOrder } from "../../../src/controller/scheduler/order.ts";
import { advance, apply, diagnostic, group, instance, node, ofKind, settle, tick, world } from "./harness.ts";

const names = (groups: readonly { name: string }[]) => groups.map((g) => g.name);

describe("evaluation order", () => {
  test("dependency tiers come first, then priority, startup weight and name", () => {
    const order = evaluationOrder([
      group("game", { dependsOn: ["lobby"], priority: 100 }),
      group("lobby", { dependsOn: ["proxy"] }),
      group("proxy"),
      group("b-tools", { priority: 5 }),
      group("a-tools", { priority: 5 }),
      group("heavy", { priority: 5, startupWeight: 10 }),
      group("stats", { dependsOn: ["proxy", "lobby"] }),
    ]);
    expect(order.tiers.map(names)).toEqual([
      ["heavy", "a-tools", "b-tools", "proxy"],
      ["lobby"],
      ["game", "stats"],
    ]);
    expect(order.cyclic).toEqual([]);
  });

  test("groups on or behind a cycle are set apart instead of looping", () => {
    const order = evaluationOrder([
      group("a", { dependsOn: ["b"] }),
      group("b", { dependsOn: ["a"] }),
      group("c", { dependsOn: ["a"] }),
      group("self", { dependsOn: ["self"] }),
      group("free"),
    ]);
    expect(order.tiers.map(names)).toEqual([["free"]]);
    expect(names(order.cyclic)).toEqual(["a", "b", "c", "self"]);
  });
});

describe("dependencies and priority in a tick", () => {
  test("a group waits while a dependency has no RUNNING instance, then starts once it has", () => {
    const w = world({
      groups: [
        group("proxy", { minInstances: 1 }),
        group("lobby", { minInstances: 1, dependsOn: ["proxy"] }),
      ],
      nodes: [node("n1")],
    });
    const first = tick(w);
    expect(ofKind(first, "place").map((p) => p.group)).toEqual(["proxy"]);
    expect(ofKind(first, "wait")).toEqual([
      { kind: "wait", group: "lobby", reason: "dependency proxy has no running instances" },
    ]);
    expect(diagnostic(first, "lobby")).toMatchObject({ status: "waiting", tier: 1, placed: 0 });

    // Placed but not yet RUNNING is not enough.
    const scheduled = apply(w, first);
    expect(ofKind(tick(scheduled), "wait").map((x) => x.group)).toEqual(["lobby"]);

    const running = advance(settle(scheduled), 15_000);
    expect(ofKind(tick(running), "place").map((p) => p.group)).toEqual(["lobby"]);
  });

  test("a dependency on an unknown group waits with the same reason", () => {
    const w = world({
      groups: [group("lobby", { minInstances: 1, dependsOn: ["ghost"] })],
      nodes: [node("n1")],
    });
    expect(ofKind(tick(w), "wait")[0]?.reason).toBe("dependency ghost has no running instances");
  });

  test("a cycle makes its groups wait with a reason; the rest of the fleet still schedules", () => {
    const w = world({
      groups: [
        group("a", { minInstances: 1, dependsOn: ["b"] }),
        group("b", { minInstances: 1, dependsOn: ["a"] }),
        group("free", { minInstances: 1 }),
      ],
      nodes: [node("n1")],
    });
    const result = tick(w);
    expect(ofKind(result, "place").map((p) => p.group)).toEqual(["free"]);
    expect(ofKind(result, "wait")).toEqual([
      { kind: "wait", group: "a", reason: "dependency cycle among a, b" },
      { kind: "wait", group: "b", reason: "dependency cycle among a, b" },
    ]);
  });

  test("with room for one instance, the higher priority group of a tier gets it", () => {
    const w = world({
      groups: [
        group("low", { minInstances: 1, priority: 1 }),
        group("high", { minInstances: 1, priority: 9 }),
      ],
      nodes: [node("n1", { totalMemoryMb: 1024 })],
    });
    const result = tick(w);
    expect(ofKind(result, "place").map((p) => p.group)).toEqual(["high"]);
    expect(diagnostic(result, "low").status).toBe("unplaced");
  });

  test("an earlier tier is served before a later tier, whatever the priorities", () => {
    const w = world({
      groups: [
        group("base", { minInstances: 1 }),
        group("early", { minInstances: 1, priority: 0 }),
        group("late", { minInstances: 1, priority: 100, dependsOn: ["base"] }),
      ],
      nodes: [node("n1", { totalMemoryMb: 2048 })],
      instances: [instance("base-1", "base", "n1")],
    });
    const result = tick(w);
    expect(ofKind(result, "place").map((p) => p.group)).toEqual(["early"]);
    expect(diagnostic(result, "late")).toMatchObject({ tier: 1, status: "unplaced" });
  });
});
