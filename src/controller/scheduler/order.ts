import type { SchedGroup } from "./types.ts";

export interface EvaluationOrder {
  /** Dependency tiers (Kahn): every group comes after all groups it depends on. */
  readonly tiers: readonly (readonly SchedGroup[])[];
  /**
   * Groups on, or downstream of, a dependency cycle. Writes reject cycles, so this only fills when the
   * store holds something it should not; the tick makes these groups wait instead of looping.
   */
  readonly cyclic: readonly SchedGroup[];
}

/** Within a tier: higher priority first, then higher startup weight, then name for determinism. */
export function compareWithinTier(a: SchedGroup, b: SchedGroup): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.startupWeight !== b.startupWeight) return b.startupWeight - a.startupWeight;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Dependencies naming an unknown group add no edge: such a group is ordered as if it had no dependency
 * and then waits at evaluation, because the missing group has no RUNNING instance.
 */
export function evaluationOrder(groups: readonly SchedGroup[]): EvaluationOrder {
  const byName = new Map<string, SchedGroup>();
  for (const g of groups) if (!byName.has(g.name)) byName.set(g.name, g);

  const pending = new Map<string, number>();
  const dependents = new Map<string, SchedGroup[]>();
  for (const g of byName.values()) {
    let count = 0;
    for (const dep of new Set(g.dependsOn)) {
      if (!byName.has(dep)) continue;
      count++;
      const list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, [g]);
      else list.push(g);
    }
    pending.set(g.name, count);
  }

  const tiers: SchedGroup[][] = [];
  let current = [...byName.values()].filter((g) => pending.get(g.name) === 0);
  let placed = 0;
  while (current.length > 0) {
    current.sort(compareWithinTier);
    tiers.push(current);
    placed += current.length;
    const next: SchedGroup[] = [];
    for (const g of current) {
      for (const d of dependents.get(g.name) ?? []) {
        const left = (pending.get(d.name) ?? 0) - 1;
        pending.set(d.name, left);
        if (left === 0) next.push(d);
      }
    }
    current = next;
  }

  const cyclic =
    placed === byName.size ? [] : [...byName.values()].filter((g) => (pending.get(g.name) ?? 0) > 0);
  cyclic.sort(compareWithinTier);
  return { tiers, cyclic };
}
