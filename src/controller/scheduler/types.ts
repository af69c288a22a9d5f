import type { InstanceState } from "../../core/lifecycle/instance-state.ts";
import type { NodeState } from "../../core/lifecycle/node-state.ts";
import type { RolloutDecision, RolloutDeployment } from "../deployments/rollout-types.ts";

/**
 * Plain-data contract of one scheduler tick. The shell (controller loop) builds a `TickInput` from the
 * store and the live node/player views, calls `scheduleTick`, and turns the returned actions into
 * writes and gRPC calls. Nothing here refers to I/O, so a scenario is just a literal.
 */

export type ScalingMode = "STATIC" | "DYNAMIC" | "MANUAL";

export type { InstanceState };

/**
 * A node's state as the scheduler reads it: the recorded `NodeState`, plus `CORDONED`, accepted both
 * as a status and as the `cordoned` flag (upstream reports it as a status).
 */
export type SchedNodeState = NodeState | "CORDONED";

/** The resolved (inheritance and overlay applied) group fields that placement and scaling read. */
export interface SchedGroup {
  readonly name: string;
  readonly scalingMode: ScalingMode;
  readonly minInstances: number;
  readonly maxInstances: number;
  /** Per-instance player capacity; the denominator of utilisation. */
  readonly maxPlayers: number;
  /** DYNAMIC target utilisation in (0, 1]. */
  readonly scaleUpThreshold: number;
  readonly scaleDownAfterSeconds: number;
  /** 0 falls back to `SchedulerSettings.scalingCooldownSeconds`. */
  readonly scaleCooldownSeconds: number;
  readonly memoryMb: number;
  /** Fraction of node CPU, 0..1. */
  readonly cpuReservation: number;
  readonly diskReservationMb: number;
  /** Inclusive range. */
  readonly portRangeStart: number;
  readonly portRangeEnd: number;
  readonly priority: number;
  readonly startupWeight: number;
  readonly dependsOn: readonly string[];
  /** `key=value` (exact) or `key` (presence); the node must carry every entry. */
  readonly nodeAffinity: readonly string[];
  /** Same syntax; the node must carry none. */
  readonly nodeAntiAffinity: readonly string[];
  /** Label key to spread over; empty spreads over nodes themselves. */
  readonly spreadConstraint: string;
  /** Deterministic IDs for STATIC groups; empty means `{group}-1 … {group}-{min}`. */
  readonly staticInstanceNames: readonly string[];
  readonly maintenance: boolean;
  /** Set by the crash-loop detector or a PERMANENT plan/start failure. */
  readonly paused: boolean;
  /** Why, when paused; absent means the crash-loop detector. */
  readonly pauseReason?: string;
}

export interface SchedNode {
  readonly id: string;
  readonly state: SchedNodeState;
  readonly cordoned: boolean;
  /** What the daemon advertises (`resources.maxMemoryMb`, already below physical RAM). */
  readonly totalMemoryMb: number;
  /** From the last heartbeat. */
  readonly usedMemoryMb: number;
  /** 0..1 from the last heartbeat. */
  readonly cpuUsage: number;
  /** Absent when the daemon does not report disk; disk reservations are then not checked. */
  readonly freeDiskMb?: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Ports the daemon reports busy (including foreign processes). */
  readonly usedPorts: readonly number[];
  /** Epoch ms after which instances still on a DRAINING node are stopped without waiting. */
  readonly drainDeadlineAt?: number;
  /** What players still on the node at the deadline are told: the reason their instance stops. */
  readonly drainKickMessage?: string;
}

export interface SchedInstance {
  readonly id: string;
  readonly group: string;
  readonly node: string;
  readonly state: InstanceState;
  readonly port: number;
  readonly players: number;
  readonly memoryMb: number;
  /** Epoch ms; uptime gates scale-down. */
  readonly startedAt: number;
  /** 0 or absent means no data. */
  readonly tps1m?: number;
  /** Set on an instance created by a `replace` action: the instance it takes over from. */
  readonly replaces?: string;
  /** The deployment revision it was placed at (0 or absent: before any deployment). */
  readonly revision?: number;
  /** Epoch ms it was placed. */
  readonly createdAt?: number;
  /** Epoch ms it became RUNNING, while RUNNING (the health gate's clock). */
  readonly runningSince?: number;
  /** Epoch ms it became DRAINING, while DRAINING (a rollout's drain deadline counts from it). */
  readonly drainingSince?: number;
  /** Ended because its node was lost (not its own crash): a rollout's gate does not blame the revision. */
  readonly lost?: boolean;
}

/** An active (IN_PROGRESS or PAUSED) deployment of a group: the tick plans its next rollout step. */
export interface TickRollout {
  readonly group: string;
  readonly deployment: RolloutDeployment;
}

export interface StartRequest {
  readonly group: string;
  readonly count: number;
}

/** `prexorctl group scale` for a MANUAL group: the operator's absolute instance count. */
export interface ScaleRequest {
  readonly group: string;
  readonly instances: number;
}

export interface SchedulerSettings {
  /** Used when a group has no cooldown of its own. */
  readonly scalingCooldownSeconds: number;
  /** Kept free on every node on top of each placement. */
  readonly memoryHeadroomMb: number;
  /** A node whose CPU (usage plus reservations) would exceed this is not eligible. */
  readonly cpuHardLimit: number;
  /** Any RUNNING instance with 0 < tps1m < floor counts as degraded. */
  readonly tpsDegradedFloor: number;
  readonly memoryWatermark: number;
  readonly cpuWatermark: number;
  readonly diskLowWatermarkMb: number;
}

export interface TickInput {
  /** Epoch ms; the only clock the scheduler sees. */
  readonly now: number;
  readonly groups: readonly SchedGroup[];
  readonly nodes: readonly SchedNode[];
  readonly instances: readonly SchedInstance[];
  /** Epoch ms of the last scaling decision per group (the cooldown stamp). */
  readonly lastScaleAt?: Readonly<Record<string, number>>;
  readonly startRequests?: readonly StartRequest[];
  readonly scaleRequests?: readonly ScaleRequest[];
  /** Live player registry counts by instance ID; fresher than `SchedInstance.players` when present. */
  readonly playerCounts?: Readonly<Record<string, number>>;
  readonly globalMaintenance?: boolean;
  readonly settings?: Partial<SchedulerSettings>;
  readonly rollouts?: readonly TickRollout[];
}

export interface PlaceAction {
  readonly kind: "place";
  readonly group: string;
  readonly instanceId: string;
  readonly node: string;
  readonly port: number;
  readonly memoryMb: number;
  readonly reason: string;
}

/** Start `instanceId` on `node`; the old `instance` is stopped by a later tick once this one RUNS. */
export interface ReplaceAction {
  readonly kind: "replace";
  readonly group: string;
  readonly instance: string;
  readonly instanceId: string;
  readonly node: string;
  readonly port: number;
  readonly memoryMb: number;
  readonly reason: string;
}

export interface StopAction {
  readonly kind: "stop";
  readonly group: string;
  readonly instance: string;
  readonly node: string;
  readonly reason: string;
}

/**
 * Mark the instance DRAINING: it keeps the players it has, takes no new ones, and is stopped by a later
 * tick once they have left (or at the node's drain deadline).
 */
export interface DrainAction {
  readonly kind: "drain";
  readonly group: string;
  readonly instance: string;
  readonly node: string;
  readonly reason: string;
}

/** DRAINING → RUNNING again: a BLUE_GREEN rollback gives routing back to a drained blue instance. */
export interface UndrainAction {
  readonly kind: "undrain";
  readonly group: string;
  readonly instance: string;
  readonly node: string;
  readonly reason: string;
}

/** The group is held on purpose (maintenance, crash loop): nothing is placed until it is released. */
export interface PauseAction {
  readonly kind: "pause";
  readonly group: string;
  readonly reason: string;
}

/** The group is blocked by a condition that may clear by itself (dependency, capacity, cycle). */
export interface WaitAction {
  readonly kind: "wait";
  readonly group: string;
  readonly reason: string;
}

export type Action =
  | PlaceAction
  | ReplaceAction
  | StopAction
  | DrainAction
  | UndrainAction
  | PauseAction
  | WaitAction;

export type RejectionCode =
  | "NOT_ONLINE"
  | "CORDONED"
  | "MEMORY"
  | "CPU"
  | "DISK"
  | "PORTS"
  | "AFFINITY"
  | "ANTI_AFFINITY";

export interface NodeRejection {
  readonly node: string;
  readonly code: RejectionCode;
  readonly reason: string;
}

export interface ScoreBreakdown {
  readonly memory: number;
  readonly cpu: number;
  readonly instances: number;
  readonly ports: number;
  readonly spread: number;
  readonly total: number;
}

export interface NodeCandidate {
  readonly node: string;
  readonly port: number;
  readonly score: ScoreBreakdown;
}

export interface PlacementExplanation {
  readonly group: string;
  /** Why the group would not place at all this tick, if it would not. */
  readonly skip?: string;
  /** Best first; the first one is the node the next placement would use. */
  readonly candidates: readonly NodeCandidate[];
  readonly rejected: readonly NodeRejection[];
}

/**
 * `converging`: at its count, but not every counted instance is RUNNING yet (placed, preparing or
 * starting): "ok" only when the node confirms the count, so a start lost on the way is visible.
 */
export type GroupStatus = "ok" | "converging" | "paused" | "waiting" | "manual" | "cooldown" | "unplaced";

export interface GroupDiagnostic {
  readonly group: string;
  readonly tier: number;
  readonly mode: ScalingMode;
  /** Instances counted against min/max once this tick's actions are carried out. */
  readonly active: number;
  readonly running: number;
  readonly desired: number;
  readonly status: GroupStatus;
  readonly reason: string;
  readonly placed: number;
  readonly replaced: number;
  readonly stopped: number;
  /** Instances on a draining node told to keep their players and take no new ones. */
  readonly drained: number;
  /** Placements wanted but not made for lack of an eligible node. */
  readonly unplaced: number;
  /** Per-node reasons, present only when a placement found no node. */
  readonly rejections?: readonly NodeRejection[];
}

export interface NodeDiagnostic {
  readonly node: string;
  readonly schedulable: boolean;
  /** Why no group can use this node at all (status or cordon). */
  readonly reason?: string;
  readonly memoryCommittedMb: number;
  readonly memoryTotalMb: number;
  readonly cpuCommitted: number;
  readonly instances: number;
  /** Watermark breaches: they warn, they never block. */
  readonly warnings: readonly string[];
}

export interface TickResult {
  readonly actions: readonly Action[];
  readonly groups: readonly GroupDiagnostic[];
  readonly nodes: readonly NodeDiagnostic[];
  /** Groups whose cooldown the shell must stamp with `now`. */
  readonly cooldownStamps: readonly string[];
  /** Instances placed per group on behalf of start or scale requests, so the shell can settle them. */
  readonly requestsServed: Readonly<Record<string, number>>;
  /** The rollout planner's decision per group with an active deployment. */
  readonly rollouts: readonly RolloutOutcome[];
}

export interface RolloutOutcome {
  readonly group: string;
  readonly revision: number;
  readonly decision: RolloutDecision;
  /** Replacement placed this tick per old instance ID (a replace step that found no node is absent). */
  readonly placed: Readonly<Record<string, string>>;
}
