import { planDrain } from "./drain.ts";
import { GroupRun, Load } from "./group-run.ts";
import type { Hold } from "./holds.ts";
import { staticNames } from "./instance-ids.ts";
import { stepRollout } from "./rollout-step.ts";
import { decideScaling, type ScaleDecision, type ScalingContext } from "./scaling.ts";
import type { TickState } from "./tick-state.ts";
import type { GroupDiagnostic, GroupStatus, NodeRejection, SchedGroup, SchedInstance } from "./types.ts";

/** Numeric-aware for `{group}-{N}` IDs: `lobby-10` sorts after `lobby-9`. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Which empty instances go first when a group is over its bound: ones outside the declared static names,
 * then ones not serving yet (nothing to lose), then the highest IDs so the low ones stay stable.
 */
function excessOrder(group: SchedGroup): (a: SchedInstance, b: SchedInstance) => number {
  const declared = new Set(staticNames(group));
  return (a, b) =>
    Number(declared.has(a.id)) - Number(declared.has(b.id)) ||
    Number(a.state === "RUNNING") - Number(b.state === "RUNNING") ||
    compareIds(b.id, a.id);
}

function summarize(rejections: readonly NodeRejection[] | undefined): string {
  if (rejections === undefined || rejections.length === 0) return "no nodes";
  const byCode = new Map<string, number>();
  for (const r of rejections) byCode.set(r.code, (byCode.get(r.code) ?? 0) + 1);
  return [...byCode].map(([code, n]) => `${n} ${code}`).join(", ");
}

/** Replace, keep, drain or stop each instance on a draining node, as `planDrain` decides. */
function moveOffDrainingNodes(
  state: TickState,
  run: GroupRun,
  load: Load,
  group: SchedGroup,
  onDraining: readonly SchedInstance[],
  activeElsewhere: number,
  hold: Hold | undefined,
): void {
  const { index, now } = state;
  const verdicts = planDrain({
    group,
    onDrainingNodes: onDraining,
    activeElsewhere,
    replacementOf: (id) => index.replacements.get(id),
    deadlinePassed: (inst) => {
      const deadline = index.nodes.get(inst.node)?.drainDeadlineAt;
      return deadline !== undefined && now >= deadline;
    },
    kickMessageOf: (inst) => index.nodes.get(inst.node)?.drainKickMessage,
    playersOf: (inst) => index.players(inst),
    hold: hold?.kind,
  });
  let capacityLeft = true;
  for (const v of verdicts) {
    if (v.kind === "stop") run.stop(v.instance, v.reason);
    else if (v.kind === "drain") run.drain(v.instance, v.reason);
    else if (v.kind === "keep") {
      if (v.counts) load.count(v.instance);
    } else if (capacityLeft && run.replace(v.instance, v.reason)) {
      load.active++;
    } else {
      // Not replaced for lack of a node: it keeps serving and counting until the deadline.
      if (!capacityLeft) run.unplaced++;
      capacityLeft = false;
      load.count(v.instance);
    }
  }
}

function scalingContext(state: TickState, group: SchedGroup): ScalingContext {
  const seconds =
    group.scaleCooldownSeconds > 0 ? group.scaleCooldownSeconds : state.settings.scalingCooldownSeconds;
  const last = state.lastScaleAt[group.name];
  const end = last === undefined ? undefined : last + seconds * 1000;
  return {
    onCooldownUntil: end !== undefined && end > state.now ? end : undefined,
    requestedStarts: state.index.requestedStarts.get(group.name) ?? 0,
    scaleTarget: state.index.scaleTargets.get(group.name),
  };
}

/** Carries out a scaling decision; returns the reason extended with what actually happened. */
function applyScaling(
  state: TickState,
  run: GroupRun,
  load: Load,
  group: SchedGroup,
  settled: readonly SchedInstance[],
  decision: ScaleDecision,
): string {
  const { index, now } = state;
  let reason = decision.reason;

  const placed = run.placeMany(decision.floorAdd + decision.requestAdd + decision.loadAdd, reason);
  load.active += placed;
  const requestPlaced = Math.min(Math.max(0, placed - decision.floorAdd), decision.requestAdd);
  if (requestPlaced > 0) state.requestsServed[group.name] = requestPlaced;
  if (placed - decision.floorAdd - decision.requestAdd > 0) state.cooldownStamps.push(group.name);

  if (decision.excess > 0) {
    const empty = settled.filter((i) => index.players(i) === 0).sort(excessOrder(group));
    const stops = Math.min(decision.excess, empty.length);
    for (let k = 0; k < stops; k++) run.stop(empty[k]!, `${reason}: stopping an empty instance`);
    if (stops < decision.excess) reason += `; ${decision.excess - stops} occupied instance(s) left running`;
    load.active -= stops;
  }

  if (decision.scaleDownOne) {
    const idleAfterMs = group.scaleDownAfterSeconds * 1000;
    let pick: SchedInstance | undefined;
    for (const inst of settled) {
      if (inst.state !== "RUNNING" || index.players(inst) !== 0 || now - inst.startedAt <= idleAfterMs)
        continue;
      if (pick === undefined || compareIds(inst.id, pick.id) > 0) pick = inst;
    }
    if (pick === undefined) {
      reason += `; no empty instance up longer than ${group.scaleDownAfterSeconds}s`;
    } else {
      reason += `: removing idle ${pick.id}`;
      run.stop(pick, reason);
      state.cooldownStamps.push(group.name);
      load.active--;
    }
  }
  return reason;
}

function diagnosticOf(
  group: SchedGroup,
  tier: number,
  run: GroupRun,
  load: Load,
  desired: number,
  status: GroupStatus,
  reason: string,
): GroupDiagnostic {
  const diag: GroupDiagnostic = {
    group: group.name,
    tier,
    mode: group.scalingMode,
    active: load.active,
    running: load.running,
    desired,
    status,
    reason,
    placed: run.placed,
    replaced: run.replaced,
    stopped: run.stopped,
    drained: run.drained,
    unplaced: run.unplaced,
  };
  return run.rejections === undefined ? diag : { ...diag, rejections: run.rejections };
}

/**
 * A live replacement stands in for `inst` unless it is being stopped now, or the link is stale: an ID
 * reused after the instance it named was gone (a replacement is always placed after what it replaces).
 */
function standsIn(
  replacement: SchedInstance | undefined,
  inst: SchedInstance,
  stopping: ReadonlySet<string>,
): boolean {
  if (replacement === undefined || stopping.has(replacement.id)) return false;
  return (replacement.createdAt ?? replacement.startedAt) >= (inst.createdAt ?? inst.startedAt);
}

/**
 * One group's share of a tick: instances on draining nodes first (they may need new homes before the
 * group's size is judged), then the hold if any, then the scaling decision for its mode.
 */
export function evaluateGroup(
  state: TickState,
  group: SchedGroup,
  tier: number,
  hold: Hold | undefined,
): GroupDiagnostic {
  const { index } = state;
  const { live, settled: all, onDraining } = index.instancesOf(group.name);
  const run = new GroupRun(state, group, all);
  const load = new Load(index, state.settings.tpsDegradedFloor);
  // A deployment's step comes first. An old instance whose replacement is live no longer counts (the
  // replacement does), unless that replacement is being stopped now; one stopped now is gone.
  const rollout = stepRollout(state, run, group.name, live, hold !== undefined);
  const settled: SchedInstance[] = [];
  for (const inst of all) {
    if (rollout.stopped.has(inst.id) || rollout.replaced.has(inst.id)) continue;
    if (standsIn(index.replacements.get(inst.id), inst, rollout.stopped)) continue;
    settled.push(inst);
    load.count(inst);
  }
  load.active += rollout.replaced.size;
  if (onDraining.length > 0) moveOffDrainingNodes(state, run, load, group, onDraining, load.active, hold);

  if (hold !== undefined) {
    state.actions.push({ kind: hold.kind, group: group.name, reason: hold.reason });
    const status = hold.kind === "pause" ? "paused" : "waiting";
    return diagnosticOf(group, tier, run, load, load.active, status, hold.reason);
  }

  const decision = decideScaling(group, load, scalingContext(state, group));
  let reason = applyScaling(state, run, load, group, settled, decision);
  if (run.unplaced > 0) {
    const why = `no eligible node for ${run.unplaced} instance(s) (${summarize(run.rejections)})`;
    state.actions.push({ kind: "wait", group: group.name, reason: why });
    reason = `${reason}; ${why}`;
  }
  let status: GroupStatus = run.unplaced > 0 ? "unplaced" : decision.status;
  if (status === "ok" && load.running < decision.desired) {
    status = "converging";
    reason = `${reason}; ${load.running} of ${decision.desired} RUNNING`;
  }
  return diagnosticOf(group, tier, run, load, decision.desired, status, reason);
}
