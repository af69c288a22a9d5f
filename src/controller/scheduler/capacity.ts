import type { FleetIndex } from "./fleet-index.ts";
import { isPending, isTerminalState } from "./instance-state.ts";
import { PortTable } from "./port-table.ts";
import type { SchedGroup, SchedInstance, SchedNode } from "./types.ts";

/** Nodes grouped by the value of one label key, as dense bucket numbers (-1: node lacks the label). */
export interface Buckets {
  readonly bucketOf: Int32Array;
  readonly count: number;
}

/** The span of ports any group could be given; the port table only needs to cover it. */
function portWindow(groups: Iterable<SchedGroup>): [number, number] {
  let lo = 65536;
  let hi = 0;
  for (const g of groups) {
    if (g.portRangeStart > g.portRangeEnd) continue;
    lo = Math.min(lo, g.portRangeStart);
    hi = Math.max(hi, g.portRangeEnd);
  }
  return [Math.max(1, lo), Math.min(65535, hi)];
}

/**
 * What every node has committed, kept in flat typed arrays indexed by node position (nodes sorted by ID,
 * so a lower index is also the deterministic tie-break). It starts from the input and grows with every
 * placement made during the tick, which is what keeps one tick from handing the same memory or port out
 * twice. Stops do not give capacity back within the tick: the process has not exited yet.
 */
export class Capacity {
  readonly nodes: readonly SchedNode[];
  readonly index: ReadonlyMap<string, number>;
  readonly memoryCommitted: Float64Array;
  readonly cpuCommitted: Float64Array;
  /** Infinity when the daemon does not report disk. */
  readonly diskFree: Float64Array;
  readonly instanceCount: Int32Array;
  readonly ports: PortTable;
  private readonly bucketCache = new Map<string, Buckets>();

  private constructor(nodes: readonly SchedNode[], window: readonly [number, number]) {
    this.nodes = nodes;
    this.index = new Map(nodes.map((n, i) => [n.id, i]));
    const n = nodes.length;
    this.memoryCommitted = new Float64Array(n);
    this.cpuCommitted = new Float64Array(n);
    this.diskFree = new Float64Array(n);
    this.instanceCount = new Int32Array(n);
    this.ports = new PortTable(n, window[0], window[1]);
  }

  /**
   * Memory committed on a node is the larger of two views: the heartbeat plus what was placed but may
   * not show in it yet, and the sum of every reservation. The heartbeat alone misses in-flight starts;
   * reservations alone miss whatever else runs on the host. Taking the larger never counts a running
   * instance twice.
   */
  static build(index: FleetIndex, instances: readonly SchedInstance[]): Capacity {
    const sorted = [...index.nodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const cap = new Capacity(sorted, portWindow(index.groups.values()));
    const n = sorted.length;
    const reserved = new Float64Array(n);
    const pendingMemory = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const node = sorted[i]!;
      cap.cpuCommitted[i] = node.cpuUsage;
      cap.diskFree[i] = node.freeDiskMb ?? Number.POSITIVE_INFINITY;
      for (const port of node.usedPorts) cap.ports.mark(i, port);
    }
    for (const inst of instances) {
      if (isTerminalState(inst.state)) continue;
      const i = cap.index.get(inst.node);
      if (i === undefined) continue;
      reserved[i] = (reserved[i] ?? 0) + inst.memoryMb;
      cap.instanceCount[i] = (cap.instanceCount[i] ?? 0) + 1;
      cap.ports.mark(i, inst.port);
      if (isPending(inst.state)) {
        pendingMemory[i] = (pendingMemory[i] ?? 0) + inst.memoryMb;
        const group = index.groups.get(inst.group);
        if (group !== undefined) {
          cap.cpuCommitted[i] = (cap.cpuCommitted[i] ?? 0) + group.cpuReservation;
          cap.diskFree[i] = (cap.diskFree[i] ?? 0) - group.diskReservationMb;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      const heartbeatView = sorted[i]!.usedMemoryMb + (pendingMemory[i] ?? 0);
      cap.memoryCommitted[i] = Math.max(heartbeatView, reserved[i] ?? 0);
    }
    return cap;
  }

  get size(): number {
    return this.nodes.length;
  }

  node(i: number): SchedNode {
    return this.nodes[i]!;
  }

  commit(i: number, group: SchedGroup, port: number): void {
    this.memoryCommitted[i] = (this.memoryCommitted[i] ?? 0) + group.memoryMb;
    this.cpuCommitted[i] = (this.cpuCommitted[i] ?? 0) + group.cpuReservation;
    this.diskFree[i] = (this.diskFree[i] ?? 0) - group.diskReservationMb;
    this.instanceCount[i] = (this.instanceCount[i] ?? 0) + 1;
    this.ports.mark(i, port);
  }

  /** Buckets for a spread key; the empty key spreads over the nodes themselves. */
  buckets(key: string): Buckets {
    const cached = this.bucketCache.get(key);
    if (cached !== undefined) return cached;
    const bucketOf = new Int32Array(this.size);
    let count = 0;
    if (key === "") {
      for (let i = 0; i < this.size; i++) bucketOf[i] = i;
      count = this.size;
    } else {
      const ids = new Map<string, number>();
      for (let i = 0; i < this.size; i++) {
        const value = this.node(i).labels[key];
        if (value === undefined) {
          bucketOf[i] = -1;
          continue;
        }
        let id = ids.get(value);
        if (id === undefined) {
          id = count++;
          ids.set(value, id);
        }
        bucketOf[i] = id;
      }
    }
    const buckets = { bucketOf, count };
    this.bucketCache.set(key, buckets);
    return buckets;
  }
}
