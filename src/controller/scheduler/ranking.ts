import type { Buckets, Capacity } from "./capacity.ts";
import { SCORE_WEIGHTS } from "./defaults.ts";
import type { SchedGroup, SchedInstance, ScoreBreakdown } from "./types.ts";

/**
 * Anti-spread of one group: how many of its instances sit in each bucket of its spread key. Upstream
 * scores spread only when `spreadConstraint` is set; we spread over nodes when it is not, so a group
 * never stacks on the node with the most free memory while others stand idle.
 */
export class SpreadTracker {
  private readonly bucketOf: Int32Array;
  private readonly counts: Int32Array;
  private max = 0;

  constructor(buckets: Buckets) {
    this.bucketOf = buckets.bucketOf;
    this.counts = new Int32Array(buckets.count);
  }

  /** Seeded with where the group's instances already run. */
  static of(cap: Capacity, key: string, instances: readonly SchedInstance[]): SpreadTracker {
    const spread = new SpreadTracker(cap.buckets(key));
    for (const inst of instances) {
      const i = cap.index.get(inst.node);
      if (i !== undefined) spread.add(i);
    }
    return spread;
  }

  add(node: number): void {
    const b = this.bucketOf[node] ?? -1;
    if (b < 0) return;
    const c = (this.counts[b] ?? 0) + 1;
    this.counts[b] = c;
    if (c > this.max) this.max = c;
  }

  /** 1 for an empty (or unlabelled) bucket, 0 for the fullest. */
  value(node: number): number {
    if (this.max === 0) return 1;
    const b = this.bucketOf[node] ?? -1;
    return b < 0 ? 1 : 1 - (this.counts[b] ?? 0) / this.max;
  }
}

function memoryTerm(cap: Capacity, i: number): number {
  const total = cap.node(i).totalMemoryMb;
  return (total - (cap.memoryCommitted[i] ?? 0)) / Math.max(total, 1);
}

function cpuTerm(cap: Capacity, i: number): number {
  return 1 - Math.min(1, cap.cpuCommitted[i] ?? 0);
}

function instancesTerm(cap: Capacity, i: number): number {
  return 1 / (1 + (cap.instanceCount[i] ?? 0));
}

function portsTerm(cap: Capacity, i: number, group: SchedGroup): number {
  const size = group.portRangeEnd - group.portRangeStart + 1;
  return (size - cap.ports.usedCount(i, group.portRangeStart, group.portRangeEnd)) / size;
}

/** The part of the score that depends on the node alone, the same for every group. */
export function nodeScore(cap: Capacity, i: number): number {
  return (
    SCORE_WEIGHTS.memory * memoryTerm(cap, i) +
    SCORE_WEIGHTS.cpu * cpuTerm(cap, i) +
    SCORE_WEIGHTS.instances * instancesTerm(cap, i)
  );
}

/** The part that depends on the group: its port range and its spread. */
export function groupScore(cap: Capacity, i: number, group: SchedGroup, spread: SpreadTracker): number {
  return SCORE_WEIGHTS.ports * portsTerm(cap, i, group) + SCORE_WEIGHTS.spread * spread.value(i);
}

/** Weighted score of a feasible node; higher wins. */
export function scoreNode(cap: Capacity, i: number, group: SchedGroup, spread: SpreadTracker): number {
  return nodeScore(cap, i) + groupScore(cap, i, group, spread);
}

/** The same score, term by term (unweighted terms, weighted total) for diagnostics. */
export function scoreBreakdown(
  cap: Capacity,
  i: number,
  group: SchedGroup,
  spread: SpreadTracker,
): ScoreBreakdown {
  return {
    memory: memoryTerm(cap, i),
    cpu: cpuTerm(cap, i),
    instances: instancesTerm(cap, i),
    ports: portsTerm(cap, i, group),
    spread: spread.value(i),
    total: scoreNode(cap, i, group, spread),
  };
}
