import type { GroupSpec } from "../../core/groups/group-schema.ts";
import type { CollectionName } from "../../store/collections.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import type {
  DeploymentState,
  DeploymentTrigger,
  GateVerdict,
  RolloutKnobs,
  RoutingSide,
  Strategy,
} from "./rollout-types.ts";

export const DEPLOYMENTS = "deployments" satisfies CollectionName;
/** Per group: the revision new placements are stamped with (see DeploymentHeadDoc). */
export const DEPLOYMENT_HEADS = "deployment_heads" satisfies CollectionName;

/** One template as a revision pins it. */
export interface PinnedTemplate {
  hash: string;
  /** `vN` (position in the template's history) when known, for people */
  version: string;
}

export interface WaveRecord {
  index: number;
  kind: "canary" | "batch";
  startedAt: number;
  completedAt: number | null;
  /** which instance replaced which (`new` null until the replacement was placed) */
  replaced: Array<{ old: string; new: string | null }>;
  verdict: "pending" | "passed" | "failed";
  reason: string;
}

/** `deployments`, keyed `<group>:<revision>`; `seqId` is the cluster-wide numeric id. */
export interface DeploymentDoc extends Doc {
  seqId: number;
  groupName: string;
  revision: number;
  trigger: DeploymentTrigger;
  strategy: Strategy;
  state: DeploymentState;
  templateSnapshot: Record<string, PinnedTemplate>;
  /** the group's full configuration at trigger; never returned by the API */
  groupSnapshot: GroupSpec;
  knobs: RolloutKnobs;
  totalInstances: number;
  updatedInstances: number;
  /** earlier revisions with the same content: their instances already count as up to date */
  sameAs: number[];
  /** what the group ran at trigger: a rollback with no earlier COMPLETED revision restores this */
  baseline: { templateSnapshot: Record<string, PinnedTemplate>; groupSnapshot: GroupSpec };
  /** the revision new placements used before this one (restored when it fails) */
  previousHead: number;
  waves: WaveRecord[];
  currentWave: WaveRecord | null;
  /** the planner's latest word and its gate verdicts */
  reason: string;
  gates: GateVerdict[];
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
  rollbackOf: number | null;
  createdBy: string;
  /** BLUE_GREEN: the side the group's routing points at (absent = blue), recorded before blue drains */
  routing?: RoutingSide;
  switchedAt?: number;
  /** BLUE_GREEN: a failure being unwound over several ticks (switch back, then stop green) */
  failing?: string;
  /** BLUE_GREEN: an operator asked for the rollback; the unwound deployment ends ROLLED_BACK */
  rollbackRequested?: boolean;
  /** set by pause/resume: who and when */
  pausedAt?: number | null;
}

export interface DeploymentHeadDoc extends Doc {
  revision: number;
}

export const ACTIVE_STATES: readonly DeploymentState[] = ["IN_PROGRESS", "PAUSED"];

/** Deployments not yet ended, across every group (a restore waits for none to be left). */
export function countActiveDeployments(store: DurableStore): Promise<number> {
  return store.collection<DeploymentDoc>(DEPLOYMENTS).count({ state: { $in: [...ACTIVE_STATES] } });
}

export function deploymentId(group: string, revision: number): string {
  return `${group}:${revision}`;
}

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

/** The API's view: the group snapshot stays inside. */
export function toDeploymentView(doc: DeploymentDoc) {
  return {
    id: doc.seqId,
    groupName: doc.groupName,
    revision: doc.revision,
    trigger: doc.trigger,
    strategy: doc.strategy,
    state: doc.state,
    templateSnapshot: doc.templateSnapshot,
    configSnapshot: doc.knobs,
    totalInstances: doc.totalInstances,
    updatedInstances: doc.updatedInstances,
    waves: [...doc.waves, ...(doc.currentWave ? [doc.currentWave] : [])].map((w) => ({
      ...w,
      startedAt: iso(w.startedAt),
      completedAt: iso(w.completedAt),
    })),
    reason: doc.reason,
    gates: doc.gates,
    ...(doc.strategy === "BLUE_GREEN" ? { routing: doc.routing ?? "blue" } : {}),
    createdAt: iso(doc.createdAt),
    completedAt: iso(doc.completedAt),
    rollbackOf: doc.rollbackOf,
    createdBy: doc.createdBy,
  };
}

export type DeploymentView = ReturnType<typeof toDeploymentView>;
