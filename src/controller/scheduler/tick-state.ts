import type { RolloutInstance } from "../deployments/rollout-types.ts";
import type { Capacity } from "./capacity.ts";
import type { FleetIndex } from "./fleet-index.ts";
import type { InstanceIds } from "./instance-ids.ts";
import type { Placer } from "./placement.ts";
import type { Action, RolloutOutcome, SchedulerSettings, TickRollout } from "./types.ts";

/** Everything one tick shares across its group evaluations; actions and stamps are appended to. */
export interface TickState {
  readonly now: number;
  readonly settings: SchedulerSettings;
  readonly index: FleetIndex;
  readonly capacity: Capacity;
  readonly placer: Placer;
  readonly ids: InstanceIds;
  readonly lastScaleAt: Readonly<Record<string, number>>;
  readonly actions: Action[];
  readonly cooldownStamps: string[];
  readonly requestsServed: Record<string, number>;
  /** Active deployments by group, with every instance record of the group (terminal ones too). */
  readonly rollouts: ReadonlyMap<string, { rollout: TickRollout; instances: RolloutInstance[] }>;
  readonly rolloutOutcomes: RolloutOutcome[];
}
