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
function compareWithinTier(a: SchedGroup, b: SchedGroup): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.startupWeight !== b.startupWeight) return b.startupWeight - a.startupWeight;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Groups are handled by position (typed arrays, not maps keyed by name) because this runs over every
 * group on every tick. Dependencies naming an unknown group add no edge: such a group is ordered as if
 * it had no dependency and then waits at evaluation, because the missing group has no RUNNING instance.
 * Duplicate names are expected to be removed by the caller.
 */
export function evaluationOrder(groups: readonly SchedGroup[]): EvaluationOrder {
  const n = groups.length;
  const position = new Map<string, number>();
  for (let i = 0; i < n; i++) position.set(groups[i]!.name, i);

  const waitingOn = new Int32Array(n);
  const dependents: (number[] | undefined)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const deps = groups[i]!.dependsOn;
    for (let d = 0; d < deps.length; d++) {
      const j = position.get(deps[d]!);
      // A repeated entry in dependsOn is one edge.
      if (j === undefined || deps.indexOf(deps[d]!) !== d) continue;
      waitingOn[i] = (waitingOn[i] ?? 0) + 1;
      const list = dependents[j];
      if (list === undefined) dependents[j] = [i];
      else list.push(i);
    }
  }

  const tiers: SchedGroup[][] = [];
  let current: number[] = [];
  for (let i = 0; i < n; i++) if (waitingOn[i] === 0) current.push(i);
  let ordered = 0;
  while (current.length > 0) {
    const tier = current.map((i) => groups[i]!).sort(compareWithinTier);
    tiers.push(tier);
    ordered += tier.length;
    const next: number[] = [];
    for (const i of current) {
      for (const d of dependents[i] ?? []) {
        const left = (waitingOn[d] ?? 0) - 1;
        waitingOn[d] = left;
        if (left === 0) next.push(d);
      }
    }
    current = next;
  }

  const cyclic =
    ordered === n ? [] : groups.filter((_, i) => (waitingOn[i] ?? 0) > 0).sort(compareWithinTier);
  return { tiers, cyclic };
}

/** The wait reason of groups in `cyclic`, naming a few of them. */
export function cycleReason(groups: readonly SchedGroup[]): string {
  const shown = groups.slice(0, 10).map((g) => g.name);
  const more = groups.length > shown.length ? ` and ${groups.length - shown.length} more` : "";
  return `dependency cycle among ${shown.join(", ")}${more}`;
}
