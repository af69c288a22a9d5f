import type { Lease } from "../../../coord/port.ts";
import type { Logger } from "../../../log/logger.ts";
import type { CollectionName } from "../../../store/collections.ts";
import type { Doc, DurableStore } from "../../../store/port.ts";
import type { EventPublisher } from "../../events/event-types.ts";
import type { InstanceLifecycle } from "../../instances/instance-lifecycle.ts";
import type { NodeDoc } from "../../nodes/node-doc.ts";
import type { NodeService } from "../../nodes/node-service.ts";
import type { NodeShutdowns } from "../../nodes/node-shutdowns.ts";
import { isTerminalState } from "../instance-state.ts";
import type { SchedInstance } from "../types.ts";
import { fenceOf, type ScopedLeases } from "./scoped-leases.ts";

export type DrainState = "IN_PROGRESS" | "COMPLETED" | "CANCELLED";

/** `workflow_drains`, keyed by node id: the drain intent a restarted controller resumes. */
export interface DrainDoc extends Doc {
  nodeId: string;
  state: DrainState;
  shutdownAfterDrain: boolean;
  kickMessage: string;
  requestedAt: number;
  /** after this, instances still on the node are stopped, players or not */
  timeoutAt: number;
  requestedBy: string;
  /** instances on the node waiting for their players to leave */
  drainingInstanceIds: string[];
  /** live instances on the node at the last check */
  remaining: number;
  updatedAt: number;
  completedAt?: number;
}

export interface DrainProgress {
  readonly nodeId: string;
  readonly state: DrainState;
  readonly remaining: number;
}

/** The node drains in progress and done, keyed by node. */
export const WORKFLOW_DRAINS = "workflow_drains" satisfies CollectionName;

/** Drains still IN_PROGRESS across the cluster (`prexorcloud_workflows_node_drains`). */
export function countOpenDrains(store: DurableStore): Promise<number> {
  return store.collection<DrainDoc>(WORKFLOW_DRAINS).count({ state: "IN_PROGRESS" });
}
const NO_IDS: readonly string[] = [];

/** What one node holds right now, from the tick's instance list. */
interface NodeLoad {
  live: number;
  draining: string[];
}

/**
 * Drain bookkeeping around the pure core, which does the moving itself (replace elsewhere, DRAINING
 * until players leave, stop). Each tick: a drain requested on a node (the node record's `drain`) is
 * recorded as IN_PROGRESS with the instances waiting for players; once the node holds no live
 * instance the intent is COMPLETED, the node stops draining and stays cordoned, a ShutdownNode is owed
 * when asked for, and NODE_DRAIN_COMPLETED is announced. A recorded drain whose node no longer drains
 * is CANCELLED and its DRAINING instances serve again. Writes are fenced by the `node-drain:<id>`
 * lease, so after a failover exactly one controller carries a drain on.
 */
export class DrainWorkflow {
  constructor(
    private readonly deps: {
      store: DurableStore;
      leases: ScopedLeases;
      nodes: NodeService;
      shutdowns?: Pick<NodeShutdowns, "deliverPending">;
      lifecycle?: Pick<InstanceLifecycle, "undrain">;
      events: EventPublisher;
      log: Logger;
    },
  ) {}

  private get col() {
    return this.deps.store.collection<DrainDoc>(WORKFLOW_DRAINS);
  }

  async sync(
    now: number,
    nodes: readonly NodeDoc[],
    instances: readonly SchedInstance[],
  ): Promise<DrainProgress[]> {
    const open = await this.col.find({ state: "IN_PROGRESS" }, { limit: 100_000 });
    const recorded = new Map(open.map((d) => [d._id, d]));
    const loads = loadsByNode(instances);
    const progress: DrainProgress[] = [];

    for (const node of nodes) {
      const drain = node.drain;
      if (drain === null) continue;
      let doc = recorded.get(node._id);
      if (doc !== undefined && doc.requestedAt !== drain.requestedAt) {
        // Drained again: the new request replaces the old intent in place.
        doc = undefined;
      }
      recorded.delete(node._id);
      if (doc === undefined) {
        const earlier = await this.col.get(node._id);
        if (earlier?.state === "COMPLETED" && earlier.requestedAt === drain.requestedAt) {
          // Completed, but the controller stopped before the node record said so.
          const lease = await this.deps.leases.hold(`node-drain:${node._id}`);
          if (lease !== null) await this.finishNode(earlier, lease, now);
          continue;
        }
      }
      const step = await this.record(node, doc, loads.get(node._id), now);
      if (step !== undefined) progress.push(step);
    }
    // Left over: intents whose node no longer drains (undrained or deleted).
    for (const doc of recorded.values()) {
      if (await this.cancel(doc, instances, now)) {
        progress.push({
          nodeId: doc.nodeId,
          state: "CANCELLED",
          remaining: loads.get(doc.nodeId)?.live ?? 0,
        });
      }
    }
    return progress;
  }

  private async record(
    node: NodeDoc,
    doc: DrainDoc | undefined,
    load: NodeLoad | undefined,
    now: number,
  ): Promise<DrainProgress | undefined> {
    const drain = node.drain!;
    const lease = await this.deps.leases.hold(`node-drain:${node._id}`);
    if (lease === null) return undefined; // another controller carries this drain
    const fence = fenceOf(lease);
    const remaining = load?.live ?? 0;
    const draining = load?.draining ?? NO_IDS;
    if (doc === undefined) {
      doc = await this.col.put(
        {
          _id: node._id,
          nodeId: node._id,
          state: "IN_PROGRESS",
          shutdownAfterDrain: drain.shutdown,
          kickMessage: drain.kickMessage,
          requestedAt: drain.requestedAt,
          timeoutAt: drain.deadlineAt,
          requestedBy: drain.requestedBy,
          drainingInstanceIds: [...draining],
          remaining,
          updatedAt: now,
        },
        { fence },
      );
    } else if (doc.remaining !== remaining || !sameIds(doc.drainingInstanceIds, draining)) {
      doc =
        (await this.col.update(
          node._id,
          { remaining, drainingInstanceIds: [...draining], updatedAt: now },
          { fence },
        )) ?? doc;
    }
    if (remaining > 0) return { nodeId: node._id, state: "IN_PROGRESS", remaining };
    await this.col.update(
      node._id,
      { state: "COMPLETED", remaining: 0, drainingInstanceIds: [], completedAt: now, updatedAt: now },
      { fence },
    );
    await this.finishNode(doc, lease, now);
    return { nodeId: node._id, state: "COMPLETED", remaining: 0 };
  }

  /** The node side of a completed drain; safe to repeat (it only acts on the same request). */
  private async finishNode(doc: DrainDoc, lease: Lease, now: number): Promise<void> {
    const { nodes, shutdowns, events, log } = this.deps;
    const shutdown = doc.shutdownAfterDrain
      ? { requestedAt: now, reason: "node drained", requestedBy: doc.requestedBy }
      : undefined;
    const after = await nodes.finishDrain(doc.nodeId, doc.requestedAt, shutdown);
    if (after !== null) {
      if (shutdown) await shutdowns?.deliverPending([after]);
      log.info(
        { nodeId: doc.nodeId, shutdown: doc.shutdownAfterDrain },
        doc.shutdownAfterDrain
          ? "node drain completed: no instances left; shutting the node down"
          : "node drain completed: no instances left; the node stays cordoned",
      );
      await events.publish({
        type: "NODE_DRAIN_COMPLETED",
        payload: { nodeId: doc.nodeId, timestamp: new Date(now).toISOString() },
      });
    }
    await this.deps.leases.release(lease.scope);
  }

  /** Marks the intent CANCELLED and lets its DRAINING instances take players again. */
  private async cancel(doc: DrainDoc, instances: readonly SchedInstance[], now: number): Promise<boolean> {
    const lease = await this.deps.leases.hold(`node-drain:${doc.nodeId}`);
    if (lease === null) return false;
    const fence = fenceOf(lease);
    await this.col.update(doc._id, { state: "CANCELLED", updatedAt: now }, { fence });
    const waiting = new Set(doc.drainingInstanceIds);
    for (const inst of instances) {
      if (!waiting.has(inst.id) || inst.state !== "DRAINING" || inst.node !== doc.nodeId) continue;
      try {
        await this.deps.lifecycle?.undrain({ instanceId: inst.id, reason: "node drain cancelled", fence });
      } catch (err) {
        this.deps.log.warn({ instanceId: inst.id, err }, "could not undrain instance");
      }
    }
    await this.deps.leases.release(lease.scope);
    return true;
  }
}

function loadsByNode(instances: readonly SchedInstance[]): Map<string, NodeLoad> {
  const loads = new Map<string, NodeLoad>();
  for (const inst of instances) {
    if (isTerminalState(inst.state)) continue;
    let load = loads.get(inst.node);
    if (load === undefined) {
      load = { live: 0, draining: [] };
      loads.set(inst.node, load);
    }
    load.live++;
    if (inst.state === "DRAINING") load.draining.push(inst.id);
  }
  return loads;
}

function sameIds(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  return a.every((id, k) => id === b[k]);
}
