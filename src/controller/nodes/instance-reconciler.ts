import type { Doc, Fence } from "../../store/port.ts";
import type { NodeInstanceReport } from "./node-doc.ts";

/**
 * What the daemon link tells the instance side about actual state. The link only reports; deciding
 * what to do about a lost or unexpected instance belongs to the lifecycle and scheduler code, which
 * can replace this implementation without touching the link.
 */
export interface InstanceReconciler {
  /**
   * The node reported every process it supervises (at Hello, and on every heartbeat). `fence` is
   * the node session's lease (`node:<id>`, token = session epoch): every record write made from
   * the report carries it, so a session that lost the node lease (a paused controller) is refused.
   */
  reconcile(nodeId: string, reported: readonly NodeInstanceReport[], fence?: Fence): Promise<void>;
  /** One instance changed state on the node; fenced by the node session like `reconcile`. */
  update(nodeId: string, report: NodeInstanceReport, fence?: Fence): Promise<void>;
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

// The implementation is LifecycleReconciler (controller/instances): it applies the lifecycle FSM.
