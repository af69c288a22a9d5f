import { describe, expect, test } from "bun:test";
import type { SchedInstance, SchedNode, TickResult } from "../../../src/controller/scheduler/types.ts";
import { randomFleet, seededRandom } from "./fleet.ts";
import {
  advance,
  apply,
  live,
  liveOf,
  memoryOvercommit,
  ofKind,
  placementViolations,
  portCollisions,
  runUntilStable,
  settle,
  tick,
  type World,
} from "./harness.ts";

function assertInvariants(w: World): void {
  expect(portCollisions(w)).toEqual([]);
  expect(memoryOvercommit(w)).toEqual([]);
  expect(placementViolations(w)).toEqual([]);
}

/** Stops made for scaling reasons only ever take empty instances. */
function assertScalingStopsAreEmpty(before: World, result: TickResult): void {
  const byId = new Map(before.instances.map((i) => [i.id, i]));
  for (const stop of ofKind(result, "stop")) {
    if (stop.reason.startsWith("node draining") || stop.reason.includes("no longer exists")) continue;
    const players = (before.playerCounts?.[stop.instance] ?? byId.get(stop.instance)?.players) || 0;
    expect({ instance: stop.instance, players }).toEqual({ instance: stop.instance, players: 0 });
  }
}

function assertAtLeastMin(w: World): void {
  const short = w.groups
    .filter((g) => g.scalingMode !== "MANUAL" && !g.maintenance && !g.paused)
    .filter((g) => liveOf(w, g.name).length < g.minInstances)
    .map((g) => `${g.name}: ${liveOf(w, g.name).length}/${g.minInstances}`);
  expect(short).toEqual([]);
}

describe("property: seeded random fleet of 50 nodes and 5,000 instances", () => {
  test("converges with no port collision, no memory over-commit and every group at its minimum", () => {
    const fleet = randomFleet({ seed: 20_260_101, nodes: 50, instances: 5000 });
    expect(fleet.groups.reduce((s, g) => s + g.minInstances, 0)).toBe(5000);

    const first = runUntilStable(fleet, { check: assertInvariants });
    expect(first.ticks).toBeLessThanOrEqual(3);
    expect(live(first.world)).toHaveLength(5000);
    for (const g of first.world.groups) expect(liveOf(first.world, g.name)).toHaveLength(g.minInstances);

    // Perturb: drain three nodes, cordon two, crash every twentieth instance, load some DYNAMIC groups.
    const rand = seededRandom(7);
    const drained = new Set(first.world.nodes.slice(0, 3).map((n) => n.id));
    const cordoned = new Set(first.world.nodes.slice(3, 5).map((n) => n.id));
    const nodes: SchedNode[] = first.world.nodes.map((n) =>
      drained.has(n.id) ? { ...n, state: "DRAINING" } : cordoned.has(n.id) ? { ...n, cordoned: true } : n,
    );
    const dynamic = new Set(first.world.groups.filter((g) => g.scalingMode === "DYNAMIC").map((g) => g.name));
    const instances: SchedInstance[] = first.world.instances.map((i, k) => {
      if (k % 20 === 0) return { ...i, state: "CRASHED" };
      return dynamic.has(i.group) && rand() < 0.3
        ? { ...i, players: 95 }
        : { ...i, players: Math.floor(rand() * 40) };
    });
    const perturbed = advance({ ...first.world, nodes, instances }, 600_000);

    const onCordonedBefore = live(perturbed).filter((i) => cordoned.has(i.node)).length;
    const second = runUntilStable(perturbed, { check: assertInvariants });
    // Occupied instances wait for their players: whatever is left on a drained node serves some.
    const waiting = live(second.world).filter((i) => drained.has(i.node));
    expect(waiting.filter((i) => i.state !== "DRAINING" || i.players === 0)).toEqual([]);
    // At the drain deadline the rest is stopped, players or not.
    const late = {
      ...second.world,
      nodes: second.world.nodes.map((n) =>
        drained.has(n.id) ? { ...n, drainDeadlineAt: second.world.now } : n,
      ),
    };
    const third = runUntilStable(late, { check: assertInvariants });
    expect(live(third.world).filter((i) => drained.has(i.node))).toEqual([]);
    expect(live(second.world).filter((i) => cordoned.has(i.node)).length).toBeLessThanOrEqual(
      onCordonedBefore,
    );
    assertAtLeastMin(second.world);
  });
});

describe("property: random churn over many seeds", () => {
  /** One random event between ticks: crashes, drains, cordons, load swings, requests, holds. */
  function churn(w: World, rand: () => number): World {
    const pickIndex = (n: number) => Math.floor(rand() * n);
    const instances = w.instances.map((i) => {
      if (i.state !== "RUNNING") return i;
      if (rand() < 0.03) return { ...i, state: "CRASHED" as const };
      return rand() < 0.2 ? { ...i, players: Math.floor(rand() * 110) } : i;
    });
    const nodes = [...w.nodes];
    const k = pickIndex(nodes.length);
    const n = nodes[k]!;
    const roll = rand();
    if (roll < 0.1) nodes[k] = { ...n, state: n.state === "DRAINING" ? "ONLINE" : "DRAINING" };
    else if (roll < 0.2) nodes[k] = { ...n, cordoned: !n.cordoned };
    else if (roll < 0.25) nodes[k] = { ...n, state: "UNREACHABLE" };
    else if (roll < 0.35 && n.state === "UNREACHABLE") nodes[k] = { ...n, state: "ONLINE" };
    const groups = w.groups.map((g) => (rand() < 0.02 ? { ...g, maintenance: !g.maintenance } : g));
    const target = w.groups[pickIndex(w.groups.length)]!;
    const startRequests = rand() < 0.3 ? [{ group: target.name, count: 1 + pickIndex(3) }] : [];
    return { ...w, instances, nodes, groups, startRequests };
  }

  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    test(`seed ${seed}: 40 churned ticks keep ports unique, memory within bounds and scaling stops empty`, () => {
      const rand = seededRandom(seed * 7919);
      let w = randomFleet({ seed, nodes: 12, instances: 300, perGroup: 6, nodeMemoryMb: [32_768, 65_536] });
      w = {
        ...w,
        groups: w.groups.map((g, k) => (k % 7 === 3 ? { ...g, scalingMode: "MANUAL" as const } : g)),
      };
      for (let t = 0; t < 40; t++) {
        const result = tick(w);
        assertScalingStopsAreEmpty(w, result);
        for (const p of ofKind(result, "place")) {
          const g = w.groups.find((x) => x.name === p.group)!;
          expect(g.maintenance || g.paused).toBe(false);
        }
        w = apply(w, result);
        assertInvariants(w);
        w = churn(advance(settle(w), 15_000), rand);
      }
    });
  }
});
