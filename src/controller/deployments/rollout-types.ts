/**
 * Plain data of a rollout: the knobs an operator sets, the slice of a deployment record the planner
 * reads, the instances it judges and what it answers. No I/O anywhere, so a scenario is a literal.
 */

export type Strategy = "ROLLING" | "CANARY" | "BLUE_GREEN";
export type DeploymentState = "IN_PROGRESS" | "PAUSED" | "COMPLETED" | "ROLLED_BACK" | "FAILED";
export type DeploymentTrigger = "manual" | "restart" | "rollback" | "template-change";

export const STRATEGIES: readonly Strategy[] = ["ROLLING", "CANARY", "BLUE_GREEN"];

/** How long a draining instance may keep its players before it is stopped anyway (the knob's default). */
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 60;

/**
 * The deployment's drain deadline in seconds. Records written before the knob existed carry none,
 * so the default applies rather than a NaN deadline that never passes.
 */
export function drainTimeoutOf(knobs: RolloutKnobs): number {
  return (knobs.drainTimeoutSeconds as number | undefined) ?? DEFAULT_DRAIN_TIMEOUT_SECONDS;
}

/** Rollout knobs after defaults: every field set. */
export interface RolloutKnobs {
  /** instances replaced per wave (≥ 1) */
  readonly batchSize: number;
  /** instances that may be not RUNNING at once below the total; 0 = surge (replacement RUNS first) */
  readonly maxUnavailable: number;
  /** instances that may exist above the total at once */
  readonly maxSurge: number;
  /** size of the first wave, held for the gate before the rest (0 = no canary wave) */
  readonly canaryInstances: number;
  readonly healthGateEnabled: boolean;
  /** RUNNING this long before a replacement counts as healthy (gate on) */
  readonly minHealthySeconds: number;
  /** after minHealthySeconds, how long a replacement may take to pass the rest of the gate */
  readonly promotionTimeoutSeconds: number;
  /** a replacement not RUNNING this long after placement fails the wave */
  readonly replacementTimeoutSeconds: number;
  readonly autoRollbackOnFailure: boolean;
  /** stabilized replacement reporting 0 < tps1m < this fails the wave (0 = off) */
  readonly minHealthyTps: number;
  /** BLUE_GREEN: how long blue may keep players after the switch before it is stopped anyway */
  readonly drainTimeoutSeconds: number;
}

/** What the planner reads of a deployment record. */
export interface RolloutDeployment {
  readonly revision: number;
  readonly strategy: Strategy;
  readonly state: DeploymentState;
  readonly knobs: RolloutKnobs;
  /** RUNNING instances at trigger: the size availability is measured against */
  readonly totalInstances: number;
  /** earlier revisions with the same content (a rollback's restored revision): already up to date */
  readonly sameAs: readonly number[];
  /** BLUE_GREEN: which set the group's network routing points at, as recorded (absent = blue) */
  readonly routing?: RoutingSide;
  /** BLUE_GREEN: epoch ms the latest switch was recorded */
  readonly switchedAt?: number;
  /** BLUE_GREEN: the recorded failure being unwound (switch back, stop green) */
  readonly failing?: string;
}

/** Blue = the instances on older revisions; green = the deployment's revision. */
export type RoutingSide = "blue" | "green";

export interface RolloutInstance {
  readonly id: string;
  readonly state:
    | "SCHEDULED"
    | "PREPARING"
    | "STARTING"
    | "RUNNING"
    | "STOPPING"
    | "STOPPED"
    | "CRASHED"
    | "DRAINING";
  /** 0 = placed before any deployment */
  readonly revision: number;
  /** the instance this one was placed to take over from */
  readonly replaces?: string;
  /** epoch ms it was placed */
  readonly createdAt: number;
  /** epoch ms it became RUNNING (only meaningful while RUNNING) */
  readonly runningSince?: number;
  /** epoch ms it became DRAINING (only meaningful while DRAINING): a rolling drain's deadline counts from it */
  readonly drainingSince?: number;
  /** 0 or absent = the workload reports no TPS */
  readonly tps1m?: number;
  /** on a DRAINING node: the node drain owns it (it is replaced there, at the target revision) */
  readonly onDrainingNode?: boolean;
  /** ended because its node was lost, not by crashing: the revision is not blamed, it is replaced */
  readonly lost?: boolean;
  /** players on it (BLUE_GREEN stops a drained blue instance once this is 0) */
  readonly players?: number;
}

export interface RolloutInput {
  /** epoch ms; the only clock the planner sees */
  readonly now: number;
  readonly deployment: RolloutDeployment;
  /** every instance record of the group, terminal ones included while they are kept */
  readonly instances: readonly RolloutInstance[];
  /** false while the group is held (maintenance, crash loop): nothing new is placed */
  readonly canPlace: boolean;
}

export type RolloutStep =
  /** place a replacement at the target revision for this outdated instance */
  | { readonly kind: "replace"; readonly instance: string; readonly reason: string }
  | { readonly kind: "stop"; readonly instance: string; readonly reason: string }
  /** BLUE_GREEN: RUNNING → DRAINING (leaves routing; its players are queued for transfer) */
  | { readonly kind: "drain"; readonly instance: string; readonly reason: string }
  /** BLUE_GREEN rollback after the switch: DRAINING → RUNNING again */
  | { readonly kind: "undrain"; readonly instance: string; readonly reason: string };

export interface GateVerdict {
  readonly instance: string;
  readonly verdict: "pending" | "passed" | "failed";
  readonly reason: string;
}

export interface RolloutProgress {
  /** live instances at the target revision (or one of its equals) that passed the gate */
  readonly updated: number;
  /** live instances still on an older revision */
  readonly outdated: number;
  readonly total: number;
}

export type RolloutVerdict =
  /** steps to carry out, or waiting for replacements/gate */
  | "progress"
  /** paused at a wave boundary */
  | "paused"
  | "completed"
  | "failed";

export interface RolloutDecision {
  readonly verdict: RolloutVerdict;
  readonly reason: string;
  readonly steps: readonly RolloutStep[];
  readonly progress: RolloutProgress;
  /** a wave is open: replacements placed whose old instance is not gone or that are not yet healthy */
  readonly waveOpen: boolean;
  /** outdated instances this decision starts a new wave for (empty when none starts) */
  readonly waveStarted: readonly string[];
  readonly gates: readonly GateVerdict[];
  /** set with verdict "failed": a rollback is owed because promoted instances of the revision remain */
  readonly rollbackNeeded?: boolean;
  /** BLUE_GREEN: record this routing side (fenced) before anything that depends on it happens */
  readonly switchTo?: RoutingSide;
  /** BLUE_GREEN: record this failure: the unwinding takes several ticks and must survive takeover */
  readonly failing?: string;
}
