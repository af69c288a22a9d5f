import {
  drainTimeoutOf,
  type GateVerdict,
  type RolloutDecision,
  type RolloutInput,
  type RolloutInstance,
  type RolloutKnobs,
  type RolloutStep,
} from "./rollout-types.ts";

/** Numeric-aware for `{group}-{N}` IDs, so waves go lobby-1, lobby-2, …, lobby-10. */
export function compareIds(a: RolloutInstance, b: RolloutInstance): number {
  return a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function isTerminal(i: RolloutInstance): boolean {
  return i.state === "STOPPED" || i.state === "CRASHED";
}

/** Already leaving: neither a candidate nor counted as present. */
export function isLeaving(i: RolloutInstance): boolean {
  return i.state === "STOPPING" || isTerminal(i);
}

/** A node drain or an instance drain owns it: the rollout leaves it alone (the drain wins). */
export function ownedByDrain(i: RolloutInstance): boolean {
  return i.onDrainingNode === true || i.state === "DRAINING";
}

/** The health gate over one instance at the target revision. */
export function gateOf(i: RolloutInstance, knobs: RolloutKnobs, now: number): GateVerdict {
  const id = i.id;
  if (i.state === "CRASHED") return { instance: id, verdict: "failed", reason: "crashed" };
  if (i.state !== "RUNNING") {
    const waited = now - i.createdAt;
    if (waited > knobs.replacementTimeoutSeconds * 1000)
      return {
        instance: id,
        verdict: "failed",
        reason: `not RUNNING ${knobs.replacementTimeoutSeconds}s after placement (${i.state})`,
      };
    return { instance: id, verdict: "pending", reason: `${i.state}` };
  }
  if (!knobs.healthGateEnabled) return { instance: id, verdict: "passed", reason: "RUNNING" };
  const since = i.runningSince ?? now;
  const upMs = now - since;
  if (upMs < knobs.minHealthySeconds * 1000) {
    const window = knobs.replacementTimeoutSeconds + knobs.minHealthySeconds + knobs.promotionTimeoutSeconds;
    if (now - i.createdAt > window * 1000)
      return { instance: id, verdict: "failed", reason: `not healthy within ${window}s of placement` };
    return {
      instance: id,
      verdict: "pending",
      reason: `RUNNING ${Math.floor(upMs / 1000)}s of ${knobs.minHealthySeconds}s`,
    };
  }
  const tps = i.tps1m ?? 0;
  if (knobs.minHealthyTps > 0 && tps > 0 && tps < knobs.minHealthyTps)
    return { instance: id, verdict: "failed", reason: `TPS ${tps} below ${knobs.minHealthyTps}` };
  return { instance: id, verdict: "passed", reason: `healthy for ${knobs.minHealthySeconds}s` };
}

/**
 * One look at a rollout: from the deployment, the group's instance records and the clock, what to do
 * now. Progress is read from the instances alone (their revisions and `replaces` links), never from
 * counters, so a controller that takes over mid-wave decides exactly what the previous one would have.
 *
 * A wave picks outdated instances and places one replacement per instance at the target revision.
 * An old instance stops once its replacement passes the gate; with `maxUnavailable > 0` it may stop
 * as soon as its replacement is placed, while RUNNING stays at or above `total − maxUnavailable`.
 * The next wave starts only when every replacement of this one passed and every old one is gone. Any
 * instance of the revision that crashes, or a replacement past its timeout, fails the rollout: the
 * unproven replacements are stopped (their old instances are still there) and, when instances of the
 * revision were already promoted, a rollback is owed.
 *
 * An old instance holding players is never stopped outright: it is drained first (it leaves routing
 * and its players are queued for transfer to a RUNNING instance of the group), and stopped once it has
 * no players or `drainTimeoutSeconds` after it became DRAINING. Draining spends availability exactly
 * as a stop would, so it is taken under the same conditions. A DRAINING instance on a node that is not
 * draining is the rollout's own (only node drains and deployments drain instances), so a takeover
 * resumes it; a failed rollout gives its drained old instances back to routing.
 */
export function planRollout(input: RolloutInput): RolloutDecision {
  const { now, deployment } = input;
  const { knobs, revision } = deployment;
  const sameAs = new Set(deployment.sameAs);
  const upToDate = (i: RolloutInstance) => i.revision >= revision || sameAs.has(i.revision);

  const live = input.instances.filter((i) => !isTerminal(i));
  const gates = new Map<string, GateVerdict>();
  const gate = (i: RolloutInstance) => {
    let g = gates.get(i.id);
    if (g === undefined) {
      g = gateOf(i, knobs, now);
      gates.set(i.id, g);
    }
    return g;
  };

  // Replacements of the target revision, by the instance they take over from (latest placement wins).
  const createdAt = new Map(live.map((i) => [i.id, i.createdAt]));
  const replacementOf = new Map<string, RolloutInstance>();
  for (const i of live) {
    if (i.replaces === undefined || !upToDate(i) || isLeaving(i)) continue;
    // A link to an ID that was reused after the instance it named had gone is stale.
    const target = createdAt.get(i.replaces);
    if (target !== undefined && target > i.createdAt) continue;
    const prior = replacementOf.get(i.replaces);
    if (prior === undefined || prior.createdAt < i.createdAt) replacementOf.set(i.replaces, i);
  }

  // Failures: an instance of this very revision crashed, or a replacement timed out.
  const failures: GateVerdict[] = [];
  for (const i of input.instances) {
    if (i.revision !== revision) continue;
    // A node outage ends instances without their fault: the old one is replaced again instead.
    if (i.state === "CRASHED" && i.lost !== true)
      failures.push({ instance: i.id, verdict: "failed", reason: "crashed" });
  }
  for (const r of replacementOf.values()) {
    const g = gate(r);
    if (g.verdict === "failed" && r.state !== "CRASHED") failures.push(g);
  }

  const olds = live.filter((i) => !upToDate(i) && !isLeaving(i));
  const owned = olds.filter((i) => i.onDrainingNode !== true).sort(compareIds);
  const updatedLive = live.filter((i) => upToDate(i) && !isLeaving(i));
  const progress = {
    updated: updatedLive.filter((i) => gate(i).verdict === "passed").length,
    outdated: olds.length,
    total: deployment.totalInstances,
  };

  if (failures.length > 0) {
    const steps: RolloutStep[] = [];
    let promoted = 0;
    for (const i of updatedLive) {
      if (i.revision !== revision) continue;
      if (gate(i).verdict === "passed") promoted++;
      else steps.push({ kind: "stop", instance: i.id, reason: `deployment r${revision} failed` });
    }
    for (const old of owned)
      if (old.state === "DRAINING")
        steps.push({
          kind: "undrain",
          instance: old.id,
          reason: `deployment r${revision} failed: keeps serving`,
        });
    const first = failures[0]!;
    return {
      verdict: "failed",
      reason: `${first.instance} ${first.reason}`,
      steps,
      progress,
      waveOpen: false,
      waveStarted: [],
      gates: [...gates.values(), ...failures.filter((f) => !gates.has(f.instance))],
      rollbackNeeded: promoted > 0,
    };
  }

  const steps: RolloutStep[] = [];
  // Present = counted for surge; running = counted for availability. Both move with each step.
  let present = live.filter((i) => !isLeaving(i)).length;
  let running = live.filter((i) => i.state === "RUNNING").length;
  const total = deployment.totalInstances;
  const floor = total - knobs.maxUnavailable;
  const stop = (old: RolloutInstance, reason: string) => {
    steps.push({ kind: "stop", instance: old.id, reason });
    present--;
    if (old.state === "RUNNING") running--;
  };
  const mayStopEarly = (old: RolloutInstance) =>
    knobs.maxUnavailable > 0 && (old.state !== "RUNNING" || running - 1 >= floor);
  const playersOn = (i: RolloutInstance) => i.players ?? 0;
  const drainSeconds = drainTimeoutOf(knobs);
  // A record without the time it became DRAINING is old enough: its deadline has passed.
  const drainDone = (i: RolloutInstance) =>
    playersOn(i) === 0 || now >= (i.drainingSince ?? i.createdAt) + drainSeconds * 1000;
  /** Stop an old instance, or drain it first while it holds players: true once it is stopped. */
  const release = (old: RolloutInstance, reason: string): boolean => {
    if (old.state === "DRAINING") {
      if (!drainDone(old)) return false;
      const left = playersOn(old);
      stop(old, left > 0 ? `${reason}; drain deadline passed (${left} player(s))` : `${reason}; drained`);
      return true;
    }
    if (old.state === "RUNNING" && playersOn(old) > 0) {
      steps.push({
        kind: "drain",
        instance: old.id,
        reason: `${reason}: moving ${playersOn(old)} player(s) first`,
      });
      running--;
      return false;
    }
    stop(old, reason);
    return true;
  };
  // An up-to-date instance is never drained by a rollout: one left DRAINING (a failed rollout whose
  // undrain was lost with its controller) goes back to routing.
  for (const i of updatedLive)
    if (i.state === "DRAINING" && i.onDrainingNode !== true)
      steps.push({ kind: "undrain", instance: i.id, reason: `r${revision} is current: serves again` });

  // The open wave: promote what passed, stop early what availability allows.
  const pending: RolloutInstance[] = [];
  let open = false;
  for (const old of owned) {
    const r = replacementOf.get(old.id);
    if (r === undefined) {
      pending.push(old);
      continue;
    }
    const g = gate(r);
    if (g.verdict === "passed") {
      // A surge swap never lowers RUNNING below what it was before the replacement existed; with
      // maxUnavailable the early stops already spent the budget, so the swap has to fit the floor.
      if (knobs.maxUnavailable === 0 || old.state !== "RUNNING" || running - 1 >= floor) {
        if (!release(old, `replaced by ${r.id} (r${revision})`)) open = true;
      } else open = true;
    } else {
      open = true;
      if (mayStopEarly(old)) release(old, `replacement ${r.id} placed (r${revision}); maxUnavailable allows`);
    }
  }
  // Replacements whose old instance already left still have to pass before the wave closes.
  for (const r of replacementOf.values()) {
    if (gate(r).verdict === "pending") open = true;
  }

  const done = pending.length === 0 && !open;
  if (done) {
    return {
      verdict: "completed",
      reason: `all ${progress.updated} instance(s) on r${revision}`,
      steps,
      progress,
      waveOpen: false,
      waveStarted: [],
      gates: [...gates.values()],
    };
  }
  if (open || deployment.state === "PAUSED" || !input.canPlace) {
    const why = open
      ? "waiting for the wave's replacements"
      : deployment.state === "PAUSED"
        ? "paused at a wave boundary"
        : "group held: nothing is placed";
    return {
      verdict: !open && deployment.state === "PAUSED" ? "paused" : "progress",
      reason: why,
      steps,
      progress,
      waveOpen: open,
      waveStarted: [],
      gates: [...gates.values()],
    };
  }

  // A new wave: canaries first, then batches, within surge and availability.
  const canary = knobs.canaryInstances > 0 && progress.updated === 0 && replacementOf.size === 0;
  const size = Math.min(pending.length, canary ? knobs.canaryInstances : knobs.batchSize);
  const started: string[] = [];
  const draining: string[] = [];
  let blocked = "";
  for (const old of pending.slice(0, size)) {
    const early = mayStopEarly(old);
    // An early stop frees its slot at once only when there is nothing left to drain first.
    const freesSlot = early && (old.state === "DRAINING" ? drainDone(old) : playersOn(old) === 0);
    if (!freesSlot && present + 1 - total > knobs.maxSurge) {
      if (early) {
        // No room for the replacement beside it: drain it now, replace it once it is empty.
        if (old.state === "RUNNING") release(old, `r${revision} wave, no surge room`);
        draining.push(old.id);
        continue;
      }
      blocked = `maxSurge ${knobs.maxSurge} reached`;
      break;
    }
    steps.push({
      kind: "replace",
      instance: old.id,
      reason: `${canary ? "canary" : "wave"} of r${revision}`,
    });
    present++;
    started.push(old.id);
    if (early) release(old, `replacement placed (r${revision}); maxUnavailable allows`);
  }
  return {
    verdict: "progress",
    reason:
      started.length > 0
        ? `${canary ? "canary wave" : "wave"}: replacing ${started.join(", ")}`
        : draining.length > 0
          ? `draining ${draining.join(", ")} before replacing it`
          : `waiting: ${blocked || "no instance can be replaced yet"}`,
    steps,
    progress,
    waveOpen: started.length > 0,
    waveStarted: started,
    gates: [...gates.values()],
  };
}
