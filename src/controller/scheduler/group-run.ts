import { compileDemand, type Demand, rejectionsFor } from "./feasibility.ts";
import type { FleetIndex } from "./fleet-index.ts";
import { SpreadTracker } from "./ranking.ts";
import type { TickState } from "./tick-state.ts";
import type { NodeRejection, SchedGroup, SchedInstance } from "./types.ts";

/** Load of the instances that count against min/max, tallied as instances are kept or placed. */
export class Load {
  active = 0;
  running = 0;
  players = 0;
  tpsDegraded = false;

  constructor(
    private readonly index: FleetIndex,
    private readonly tpsFloor: number,
  ) {}

  count(instance: SchedInstance): void {
    this.active++;
    if (instance.state !== "RUNNING") return;
    this.running++;
    this.players += this.index.players(instance);
    const tps = instance.tps1m ?? 0;
    if (tps > 0 && tps < this.tpsFloor) this.tpsDegraded = true;
  }
}

/**
 * One group's actions in this tick and the counters its diagnostic reports. Constraints and anti-spread
 * are prepared on the first placement only: most groups place nothing in a given tick.
 */
export class GroupRun {
  placed = 0;
  replaced = 0;
  stopped = 0;
  drained = 0;
  unplaced = 0;
  rejections: NodeRejection[] | undefined;
  private demand: Demand | undefined;
  private spread: SpreadTracker | undefined;

  constructor(
    private readonly state: TickState,
    private readonly group: SchedGroup,
    /** Active instances off draining nodes: where the group already is. */
    private readonly settled: readonly SchedInstance[],
  ) {}

  /** Reserves a node and port, or records (once) why every node was refused. */
  private reserve(): { node: string; port: number } | undefined {
    const { placer, capacity, settings } = this.state;
    this.demand ??= compileDemand(this.group);
    this.spread ??= SpreadTracker.of(capacity, this.demand.spreadKey, this.settled);
    const slot = placer.place(this.demand, this.spread);
    if (slot === undefined) {
      this.rejections ??= rejectionsFor(capacity, this.demand, settings);
      return undefined;
    }
    return { node: capacity.node(slot.node).id, port: slot.port };
  }

  /** Places up to `count` new instances; stops at the first failure since capacity only shrinks. */
  placeMany(count: number, reason: string): number {
    let done = 0;
    while (done < count) {
      const slot = this.reserve();
      if (slot === undefined) break;
      const { name, memoryMb } = this.group;
      const instanceId = this.state.ids.next(this.group);
      this.state.actions.push({
        kind: "place",
        group: name,
        instanceId,
        node: slot.node,
        port: slot.port,
        memoryMb,
        reason,
      });
      done++;
    }
    this.placed += done;
    this.unplaced += count - done;
    return done;
  }

  /** Places a replacement for `old`; returns its ID, or undefined when no node can take it. */
  replace(old: SchedInstance, reason: string): string | undefined {
    const slot = this.reserve();
    if (slot === undefined) {
      this.unplaced++;
      return undefined;
    }
    const { name, memoryMb } = this.group;
    const instanceId = this.state.ids.next(this.group);
    const { node, port } = slot;
    this.state.actions.push({
      kind: "replace",
      group: name,
      instance: old.id,
      instanceId,
      node,
      port,
      memoryMb,
      reason,
    });
    this.replaced++;
    return instanceId;
  }

  /** The instance keeps its players, takes no new ones, and leaves once they are gone. */
  drain(instance: SchedInstance, reason: string): void {
    const { group, id, node } = instance;
    this.state.actions.push({ kind: "drain", group, instance: id, node, reason });
    this.drained++;
  }

  undrain(instance: SchedInstance, reason: string): void {
    const { group, id, node } = instance;
    this.state.actions.push({ kind: "undrain", group, instance: id, node, reason });
  }

  stop(instance: SchedInstance, reason: string): void {
    const { group, id, node } = instance;
    this.state.actions.push({ kind: "stop", group, instance: id, node, reason });
    this.stopped++;
  }
}
