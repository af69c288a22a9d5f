import { isInstanceState } from "../../core/lifecycle/index.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import type { NodeInstanceReport } from "./node-doc.ts";

/**
 * What the daemon link tells the instance side about actual state. The link only reports; deciding
 * what to do about a lost or unexpected instance belongs to the lifecycle and scheduler code, which
 * can replace this implementation without touching the link.
 */
export interface InstanceReconciler {
  /** The node reported every process it supervises (at Hello, and when the set changes). */
  reconcile(nodeId: string, reported: readonly NodeInstanceReport[]): Promise<void>;
  /** One instance changed state on the node. */
  update(nodeId: string, report: NodeInstanceReport): Promise<void>;
  /** The node stayed unreachable past the grace period; returns the instances declared lost. */
  nodeLost(nodeId: string): Promise<string[]>;
}

/** The fields of an `instances` document the link reads and writes; other fields are left alone. */
export interface LinkInstanceDoc extends Doc {
  group: string;
  node: string;
  state: string;
  port: number;
  players?: number;
  planHash?: string;
  reportedAt?: number;
  adoptedAt?: number;
  lostAt?: number;
  lostReason?: string;
}

/** States in which a process should exist on the node. SCHEDULED has not been dispatched yet. */
const EXPECTED_ALIVE = new Set(["PREPARING", "STARTING", "RUNNING", "DRAINING", "STOPPING"]);

/**
 * Minimal reconciliation over the `instances` collection:
 * - a reported instance the controller knows is updated to the reported state;
 * - one it does not know is adopted (recorded as reported) rather than killed: a controller that
 *   lost its records must not take players' servers down;
 * - one the controller expected alive on this node but the node did not report is gone: STOPPING
 *   becomes STOPPED, anything else CRASHED;
 * - after the grace period of an unreachable node, everything expected alive there is CRASHED.
 */
export class StoreInstanceReconciler implements InstanceReconciler {
  constructor(
    private readonly store: DurableStore,
    private readonly now: () => number = Date.now,
  ) {}

  private get col() {
    return this.store.collection<LinkInstanceDoc>("instances");
  }

  async reconcile(nodeId: string, reported: readonly NodeInstanceReport[]): Promise<void> {
    const known = await this.col.find({ node: nodeId });
    const seen = new Set<string>();
    for (const report of reported) {
      seen.add(report.instanceId);
      await this.update(nodeId, report);
    }
    const now = this.now();
    for (const doc of known) {
      if (seen.has(doc._id) || !EXPECTED_ALIVE.has(doc.state)) continue;
      await this.col.update(doc._id, {
        state: doc.state === "STOPPING" ? "STOPPED" : "CRASHED",
        lostAt: now,
        lostReason: "not running on the node when it reconnected",
      });
    }
  }

  async update(nodeId: string, report: NodeInstanceReport): Promise<void> {
    if (!isInstanceState(report.state)) return;
    const now = this.now();
    const fields = {
      node: nodeId,
      state: report.state,
      port: report.port,
      players: report.playerCount,
      planHash: report.planHash,
      reportedAt: now,
    };
    const updated = await this.col.update(report.instanceId, fields);
    if (!updated) {
      await this.col.put({ _id: report.instanceId, group: report.group, ...fields, adoptedAt: now });
    }
  }

  async nodeLost(nodeId: string): Promise<string[]> {
    const now = this.now();
    const lost: string[] = [];
    for (const doc of await this.col.find({ node: nodeId })) {
      if (!EXPECTED_ALIVE.has(doc.state)) continue;
      await this.col.update(doc._id, { state: "CRASHED", lostAt: now, lostReason: "node unreachable" });
      lost.push(doc._id);
    }
    return lost;
  }
}
