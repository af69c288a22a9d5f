/**
 * Seeded random fleets for the property tests and the benchmark. The same seed always builds the same
 * world, so a failing seed can be replayed.
 */
import type { ScalingMode, SchedGroup, SchedNode } from "../../../src/controller/scheduler/types.ts";
import { seededRandom } from "../../support/seeded-random.ts";
import { group, node, type World, world } from "./harness.ts";

export { seededRandom };

export interface FleetSpec {
  readonly seed: number;
  readonly nodes: number;
  /** Σ minInstances over all groups. */
  readonly instances: number;
  /** Average minInstances per group; the group count follows. */
  readonly perGroup?: number;
  /** Memory per node in MB, drawn uniformly from this range. */
  readonly nodeMemoryMb?: readonly [number, number];
  /** How many distinct (overlapping) port ranges groups draw from. */
  readonly portRanges?: number;
}

const ZONES = ["z1", "z2", "z3"];

/**
 * Nodes with zones, tiers, a few GPU hosts and some foreign busy ports; groups mixing STATIC and DYNAMIC
 * modes, memory sizes, overlapping port ranges, spread constraints and label constraints (about one in
 * five). Capacity is roughly twice the demand so a correct scheduler can place everything.
 */
export function randomFleet(spec: FleetSpec): World {
  const rand = seededRandom(spec.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const ranges = spec.portRanges ?? 8;
  const [memLo, memHi] = spec.nodeMemoryMb ?? [160_000, 256_000];

  const nodes: SchedNode[] = [];
  const hostMemoryMb: Record<string, number> = {};
  for (let k = 0; k < spec.nodes; k++) {
    const id = `node-${String(k).padStart(4, "0")}`;
    const busy = Array.from({ length: between(0, 3) }, () => 30000 + between(0, ranges * 50 + 150));
    const labels: Record<string, string> = { zone: pick(ZONES), tier: rand() < 0.5 ? "a" : "b" };
    if (rand() < 0.1) labels.gpu = "true";
    hostMemoryMb[id] = 2048;
    nodes.push(
      node(id, {
        totalMemoryMb: between(memLo / 1024, memHi / 1024) * 1024,
        usedMemoryMb: 2048,
        cpuUsage: Math.round(rand() * 40) / 100,
        labels,
        usedPorts: busy,
      }),
    );
  }

  const perGroup = spec.perGroup ?? 20;
  const groups: SchedGroup[] = [];
  let left = spec.instances;
  for (let k = 0; left > 0; k++) {
    const min = Math.min(left, between(1, perGroup * 2 - 1));
    left -= min;
    const mode: ScalingMode = rand() < 0.6 ? "STATIC" : "DYNAMIC";
    const base = 30000 + between(0, ranges - 1) * 50;
    const constraint = rand();
    groups.push(
      group(`g${String(k).padStart(5, "0")}`, {
        scalingMode: mode,
        minInstances: min,
        maxInstances: min + 5,
        memoryMb: between(1, 8) * 256,
        portRangeStart: base,
        portRangeEnd: base + 199,
        priority: between(0, 3),
        spreadConstraint: rand() < 0.2 ? "zone" : "",
        nodeAffinity: constraint < 0.1 ? ["tier=a"] : [],
        nodeAntiAffinity: constraint >= 0.1 && constraint < 0.2 ? ["gpu"] : [],
      }),
    );
  }
  return world({ nodes, groups, hostMemoryMb });
}
