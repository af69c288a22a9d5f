import type { Logger } from "../../../log/logger.ts";
import type { Doc, DurableStore } from "../../../store/port.ts";
import type { EventPublisher } from "../../events/event-types.ts";
import type { NodeDoc } from "../../nodes/node-doc.ts";
import { isTerminal } from "../instance-state.ts";
import type { SchedInstance } from "../types.ts";
import { fenceOf, type ScopedLeases } from "./scoped-leases.ts";

export type DrainState = "IN_PROGRESS" | "COMPLETED" | "CANCELLED";

/** `workflow_drains`, keyed by node id: the drain intent a restarted controller resumes. */
export interface DrainDoc extends Doc {
  nodeId: string;
  state: DrainState;
  requestedAt: number;
  deadlineAt: number;
  shutdown: boolean;
  requestedBy: string;
  updatedAt: number;
  completedAt?: number;
  /** instances still on the node at the last check */
  remaining: number;
}

export interface DrainProgress {
  readonly nodeId: string;
  readonly state: DrainState;
  readonly remaining: number;
}

/**
 * Drain bookkeeping around the pure core, which does the moving itself (replace elsewhere, then stop).
 * Each tick: a drain requested on a node (the node document's `drain`) is recorded as IN_PROGRESS; a
 * recorded drain whose node no longer drains is CANCELLED; one whose node holds no live instance is
 * COMPLETED and announced once with NODE_DRAIN_COMPLETED. Writes are fenced by the `node-drain:<id>`
 * lease, so after a failover exactly one controller finishes a drain.
 */
export class DrainWorkflow {
  constructor(
    private readonly deps: {
      store: DurableStore;
      leases: ScopedLeases;
      events: EventPublisher;
      log: Logger;
    },
  ) {}

  private get col() {
    return this.deps.store.collection<DrainDoc>("workflow_drains");
  }

  async sync(
    now: number,
    nodes: readonly NodeDoc[],
    instances: readonly SchedInstance[],
  ): Promise<DrainProgress[]> {
    const open = await this.col.find({ state: "IN_PROGRESS" }, { limit: 100_000 });
    const recorded = new Map(open.map((d) => [d._id, d]));
    const live = new Map<string, number>();
    for (const inst of instances) {
      if (!isTerminal(inst.state)) live.set(inst.node, (live.get(inst.node) ?? 0) + 1);
    }
    const progress: DrainProgress[] = [];
    const byId = new Map(nodes.map((n) => [n._id, n]));

    for (const node of nodes) {
      if (node.drain === null) continue;
      const doc = recorded.get(node._id);
      // A drain finished earlier and not re-requested stays finished.
      if (doc === undefined && (await this.finishedAlready(node))) continue;
      const remaining = live.get(node._id) ?? 0;
      const done = remaining === 0;
      const step = await this.record(node, doc, remaining, done, now);
      if (step !== undefined) progress.push(step);
    }
    for (const doc of recorded.values()) {
      const node = byId.get(doc.nodeId);
      if (node?.drain && node.drain.requestedAt === doc.requestedAt) continue;
      await this.cancel(doc.nodeId, now);
      progress.push({ nodeId: doc.nodeId, state: "CANCELLED", remaining: live.get(doc.nodeId) ?? 0 });
    }
    return progress;
  }

  private async finishedAlready(node: NodeDoc): Promise<boolean> {
    const doc = await this.col.get(node._id);
    return doc !== null && doc.state !== "IN_PROGRESS" && doc.requestedAt === node.drain?.requestedAt;
  }

  private async record(
    node: NodeDoc,
    doc: DrainDoc | undefined,
    remaining: number,
    done: boolean,
    now: number,
  ): Promise<DrainProgress | undefined> {
    const drain = node.drain!;
    const lease = await this.deps.leases.hold(`node-drain:${node._id}`);
    if (lease === null) return undefined; // another controller tracks this drain
    const fence = fenceOf(lease);
    const state: DrainState = done ? "COMPLETED" : "IN_PROGRESS";
    if (doc === undefined || doc.requestedAt !== drain.requestedAt) {
      await this.col.put(
        {
          _id: node._id,
          nodeId: node._id,
          state,
          requestedAt: drain.requestedAt,
          deadlineAt: drain.deadlineAt,
          shutdown: drain.shutdown,
          requestedBy: drain.requestedBy,
          updatedAt: now,
          remaining,
          ...(done ? { completedAt: now } : {}),
        },
        { fence },
      );
    } else if (done || doc.remaining !== remaining) {
      await this.col.update(
        node._id,
        { state, remaining, updatedAt: now, ...(done ? { completedAt: now } : {}) },
        { fence },
      );
    }
    if (done) {
      await this.deps.leases.release(lease.scope);
      this.deps.log.info({ nodeId: node._id }, "node drain completed: no instances left");
      await this.deps.events.publish({
        type: "NODE_DRAIN_COMPLETED",
        payload: { nodeId: node._id, timestamp: new Date(now).toISOString() },
      });
    }
    return { nodeId: node._id, state, remaining };
  }

  private async cancel(nodeId: string, now: number): Promise<void> {
    const lease = await this.deps.leases.hold(`node-drain:${nodeId}`);
    if (lease === null) return;
    await this.col.update(nodeId, { state: "CANCELLED", updatedAt: now }, { fence: fenceOf(lease) });
    await this.deps.leases.release(lease.scope);
  }
}
