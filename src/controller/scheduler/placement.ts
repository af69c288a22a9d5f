import type { Capacity } from "./capacity.ts";
import { type Demand, fitsResources, passesStaticChecks } from "./feasibility.ts";
import { groupScore, nodeScore, type SpreadTracker } from "./ranking.ts";
import type { SchedulerSettings } from "./types.ts";

export interface Slot {
  readonly node: number;
  readonly port: number;
}

/**
 * Picks nodes for one tick. The label- and status-eligible nodes of each distinct constraint set are
 * computed once; each placement then only re-checks what placements change (memory, CPU, disk, ports)
 * on that short list, so a tick costs O(placements × eligible nodes), not O(groups × nodes × ports).
 */
export class Placer {
  private readonly eligibleBySignature = new Map<string, Int32Array>();
  /** `nodeScore` per node, refreshed when a placement changes that node (bitwise equal to a fresh one). */
  private readonly nodeScores: Float64Array;

  constructor(
    readonly capacity: Capacity,
    readonly settings: SchedulerSettings,
  ) {
    this.nodeScores = new Float64Array(capacity.size);
    for (let i = 0; i < capacity.size; i++) this.nodeScores[i] = nodeScore(capacity, i);
  }

  private labelEligible(demand: Demand): Int32Array {
    const cached = this.eligibleBySignature.get(demand.labelSignature);
    if (cached !== undefined) return cached;
    const picked: number[] = [];
    for (let i = 0; i < this.capacity.size; i++) {
      if (passesStaticChecks(demand, this.capacity.node(i))) picked.push(i);
    }
    const list = Int32Array.from(picked);
    this.eligibleBySignature.set(demand.labelSignature, list);
    return list;
  }

  /** The best node with its lowest free port; ties go to the lower node ID. Nothing is reserved. */
  private choose(demand: Demand, spread: SpreadTracker): Slot | undefined {
    const cap = this.capacity;
    const group = demand.group;
    let best = -1;
    let bestPort = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    const eligible = this.labelEligible(demand);
    for (let k = 0; k < eligible.length; k++) {
      const i = eligible[k]!;
      if (!fitsResources(cap, i, group, this.settings)) continue;
      const port = cap.ports.firstFree(i, group.portRangeStart, group.portRangeEnd);
      if (port < 0) continue;
      const score = (this.nodeScores[i] ?? 0) + groupScore(cap, i, group, spread);
      if (score > bestScore) {
        best = i;
        bestPort = port;
        bestScore = score;
      }
    }
    return best < 0 ? undefined : { node: best, port: bestPort };
  }

  /** Choose and reserve in one step, so no later placement of this tick can take the same capacity. */
  place(demand: Demand, spread: SpreadTracker): Slot | undefined {
    const slot = this.choose(demand, spread);
    if (slot === undefined) return undefined;
    this.capacity.commit(slot.node, demand.group, slot.port);
    this.nodeScores[slot.node] = nodeScore(this.capacity, slot.node);
    spread.add(slot.node);
    return slot;
  }
}
