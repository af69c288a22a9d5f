import { planBlueGreen } from "../deployments/blue-green-planner.ts";
import { planRollout } from "../deployments/rollout-planner.ts";
import type { RolloutInstance } from "../deployments/rollout-types.ts";
import type { FleetIndex } from "./fleet-index.ts";
import type { GroupRun } from "./group-run.ts";
import type { TickState } from "./tick-state.ts";
import type { SchedInstance, TickInput, TickRollout } from "./types.ts";

/** Active deployments by group, each with every record of its group (the gate needs crashed ones). */
export function rolloutsOf(
  input: TickInput,
  index: FleetIndex,
): Map<string, { rollout: TickRollout; instances: RolloutInstance[] }> {
  const out = new Map<string, { rollout: TickRollout; instances: RolloutInstance[] }>();
  if (input.rollouts === undefined || input.rollouts.length === 0) return out;
  for (const rollout of input.rollouts) out.set(rollout.group, { rollout, instances: [] });
  for (const inst of input.instances) {
    const entry = out.get(inst.group);
    if (entry === undefined) continue;
    entry.instances.push({
      id: inst.id,
      state: inst.state,
      revision: inst.revision ?? 0,
      createdAt: inst.createdAt ?? inst.startedAt,
      ...(inst.replaces !== undefined ? { replaces: inst.replaces } : {}),
      ...(inst.runningSince !== undefined ? { runningSince: inst.runningSince } : {}),
      ...(inst.drainingSince !== undefined ? { drainingSince: inst.drainingSince } : {}),
      ...(inst.tps1m !== undefined ? { tps1m: inst.tps1m } : {}),
      onDrainingNode: index.nodes.get(inst.node)?.state === "DRAINING",
      ...(inst.lost === true ? { lost: true } : {}),
      players: index.players(inst),
    });
  }
  return out;
}

/** What the rollout did to a group this tick, for the group's own counting. */
export interface RolloutEffect {
  /** instances the rollout stops this tick */
  readonly stopped: ReadonlySet<string>;
  /** old instances a replacement was placed for this tick */
  readonly replaced: ReadonlySet<string>;
}

const NONE: RolloutEffect = { stopped: new Set(), replaced: new Set() };

/**
 * The group's active deployment, if any, gets its rollout step first: the planner decides from the
 * instance records, and its replacements are placed through the same capacity as everything else in
 * the tick. While the group is held (maintenance, crash loop) nothing is placed, but stops still run
 * (a failed wave's replacements, old instances whose replacement passed).
 */
export function stepRollout(
  state: TickState,
  run: GroupRun,
  group: string,
  live: readonly SchedInstance[],
  held: boolean,
): RolloutEffect {
  const entry = state.rollouts.get(group);
  if (entry === undefined) return NONE;
  const plan = entry.rollout.deployment.strategy === "BLUE_GREEN" ? planBlueGreen : planRollout;
  const decision = plan({
    now: state.now,
    deployment: entry.rollout.deployment,
    instances: entry.instances,
    canPlace: !held,
  });
  const byId = new Map(live.map((i) => [i.id, i]));
  const stopped = new Set<string>();
  const replaced = new Set<string>();
  const placed: Record<string, string> = {};
  for (const step of decision.steps) {
    const inst = byId.get(step.instance);
    if (inst === undefined) continue;
    if (step.kind === "stop") {
      run.stop(inst, step.reason);
      stopped.add(inst.id);
    } else if (step.kind === "drain") run.drain(inst, step.reason);
    else if (step.kind === "undrain") run.undrain(inst, step.reason);
    else if (!held) {
      const id = run.replace(inst, step.reason);
      if (id !== undefined) {
        replaced.add(inst.id);
        placed[inst.id] = id;
      }
    }
  }
  state.rolloutOutcomes.push({
    group,
    revision: entry.rollout.deployment.revision,
    decision,
    placed,
  });
  return { stopped, replaced };
}
