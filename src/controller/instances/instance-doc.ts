import type { InstanceState } from "../../core/lifecycle/index.ts";
import type { CompositionPlan } from "../../core/plan/index.ts";
import type { CollectionName } from "../../store/collections.ts";
import type { Doc } from "../../store/port.ts";

export const INSTANCES = "instances" satisfies CollectionName;
export const COMPOSITION_PLANS = "instance_composition_plans" satisfies CollectionName;

/** `instances`, keyed by instance id. Times are epoch ms. */
export interface InstanceDoc extends Doc {
  group: string;
  node: string;
  state: InstanceState;
  port: number;
  planHash: string;
  createdAt: number;
  stateChangedAt: number;
  players: number;
  /** epoch ms the daemon reported the process spawned (STARTING) */
  startedAt?: number | null;
  uptimeMs?: number;
  /** why the last transition happened (placement reason, stop reason, daemon detail) */
  reason?: string;
  lastCrashId?: string | null;
  /** the daemon refused the start; code and message of its ack */
  startError?: { code: string; message: string; disposition: string } | null;
  /** RUNNING only on the plugin's ready call, not on the daemon's readiness probe */
  awaitPluginReady?: boolean;
  /** last time StartInstance was sent */
  dispatchedAt?: number;
  /** StartInstance deliveries of this record (see convergence-repairs.ts) */
  dispatchCount?: number;
  /** the fence the stop was decided under, so a lost StopInstance can be sent again as it was */
  stopFence?: { scope: string; token: number } | null;
  stopForce?: boolean;
  /** last time StopInstance was sent */
  stopSentAt?: number;
  /** StopInstance sends of this record, the first included */
  stopCount?: number;
  reportedAt?: number;
  /** the player count the node last reported (see LifecycleReconciler.apply) */
  reportedPlayers?: number;
  /** `players.max` the node's list ping last saw (0 or absent: unknown) */
  maxPlayers?: number;
  /** names in the node's last list ping sample */
  playerSample?: string[];
  /** their UUIDs, position by position ("" where the server sent none) */
  playerSampleIds?: string[];
  /** epoch ms each sampled name was first seen in a row, position by position */
  playerSampleSince?: number[];
  adoptedAt?: number;
  lostAt?: number;
  lostReason?: string;
  /** the deployment revision it was placed at (0: before any deployment) */
  deploymentRevision?: number;
  /** the instance it was placed to take over from (rolling deploy or node drain) */
  replaces?: string;
}

/** `instance_composition_plans`, keyed by instance id: the plan exactly as sealed before dispatch. */
export interface PlanDoc extends Doc, Omit<CompositionPlan, "instanceId"> {
  instanceId: string;
  /** The dispatch-time extras that are outside the hash but needed to re-send the same start. */
  dispatch: DispatchExtras;
}

export interface DispatchExtras {
  launchArgv: string[];
  readiness: string;
  startupTimeoutSeconds: number;
  shutdownGraceSeconds: number;
  maxLifetimeSeconds: number;
  maxPlayers: number;
  /** the start carries the cluster's forwarding secret (a network's Velocity proxy or Paper backend) */
  forwarding?: boolean;
}

export function toInstanceView(doc: InstanceDoc) {
  const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);
  return {
    id: doc._id,
    group: doc.group,
    nodeId: doc.node,
    state: doc.state,
    port: doc.port,
    playerCount: doc.players ?? 0,
    // From the node's list ping while RUNNING; null / empty until a ping was answered.
    maxPlayers: doc.maxPlayers ? doc.maxPlayers : null,
    playerSample: doc.playerSample ?? [],
    planHash: doc.planHash,
    uptimeMs: doc.uptimeMs ?? 0,
    startedAt: iso(doc.startedAt),
    createdAt: iso(doc.createdAt),
    stateChangedAt: iso(doc.stateChangedAt),
    reason: doc.reason ?? null,
    lastCrashId: doc.lastCrashId ?? null,
    startError: doc.startError ?? null,
    deploymentRevision: doc.deploymentRevision ?? 0,
  };
}
