import { countsTowardLimits, isTerminalState } from "./instance-state.ts";
import type { SchedGroup, SchedInstance, SchedNode, TickInput } from "./types.ts";

/** A group's live (non-terminal) instances, split by where they stand. */
export interface GroupInstances {
  readonly live: SchedInstance[];
  /** Count against min/max and anchor anti-spread: active and not on a DRAINING node. */
  readonly settled: SchedInstance[];
  /** On a DRAINING node: the drain's to move or stop. */
  readonly onDraining: SchedInstance[];
  running: number;
}

const NO_INSTANCES: GroupInstances = Object.freeze({ live: [], settled: [], onDraining: [], running: 0 });

/** The tick input regrouped by the keys the evaluation looks things up by, in one pass over each list. */
export class FleetIndex {
  readonly groups = new Map<string, SchedGroup>();
  readonly nodes = new Map<string, SchedNode>();
  readonly byGroup = new Map<string, GroupInstances>();
  /** Live replacement per replaced instance ID. */
  readonly replacements = new Map<string, SchedInstance>();
  readonly requestedStarts = new Map<string, number>();
  readonly scaleTargets = new Map<string, number>();
  private readonly playerCounts: Readonly<Record<string, number>> | undefined;

  constructor(input: TickInput) {
    for (const g of input.groups) if (!this.groups.has(g.name)) this.groups.set(g.name, g);
    const draining = new Set<string>();
    for (const n of input.nodes) {
      if (this.nodes.has(n.id)) continue;
      this.nodes.set(n.id, n);
      if (n.state === "DRAINING") draining.add(n.id);
    }
    for (const inst of input.instances) {
      if (isTerminalState(inst.state)) continue;
      let entry = this.byGroup.get(inst.group);
      if (entry === undefined) {
        entry = { live: [], settled: [], onDraining: [], running: 0 };
        this.byGroup.set(inst.group, entry);
      }
      entry.live.push(inst);
      if (draining.size > 0 && draining.has(inst.node)) entry.onDraining.push(inst);
      else if (countsTowardLimits(inst.state)) entry.settled.push(inst);
      if (inst.state === "RUNNING") entry.running++;
      if (inst.replaces !== undefined) this.replacements.set(inst.replaces, inst);
    }
    for (const r of input.startRequests ?? []) {
      if (r.count > 0) this.requestedStarts.set(r.group, (this.requestedStarts.get(r.group) ?? 0) + r.count);
    }
    // The latest scale request for a group wins, as it would if the operator had typed both.
    for (const r of input.scaleRequests ?? []) this.scaleTargets.set(r.group, r.instances);
    this.playerCounts = input.playerCounts;
  }

  instancesOf(group: string): GroupInstances {
    return this.byGroup.get(group) ?? NO_INSTANCES;
  }

  players(instance: SchedInstance): number {
    return this.playerCounts?.[instance.id] ?? instance.players;
  }

  running(group: string): number {
    return this.instancesOf(group).running;
  }
}
