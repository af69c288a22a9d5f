import { compareIds, gateOf, isLeaving, isTerminal, ownedByDrain } from "./rollout-planner.ts";
import {
  drainTimeoutOf,
  type GateVerdict,
  type RolloutDecision,
  type RolloutInput,
  type RolloutInstance,
  type RolloutProgress,
  type RolloutStep,
} from "./rollout-types.ts";

/**
 * One look at a BLUE_GREEN rollout. Blue is every live instance on an older revision, green the ones
 * placed at the deployment's revision (one per blue instance, linked by `replaces`). The phases are
 * read from the instances and the record's routing side, never from counters, so a controller that
 * takes over decides what the previous one would have:
 *
 * 1. routing blue: place the full green set beside blue; wait until every green passes the gate.
 * 2. every green passed: answer `switchTo: "green"`; nothing else happens until that is recorded.
 * 3. routing green: drain blue (it leaves the routing list, its players are queued for green) and stop
 *    each blue instance once it has no players, or at the drain deadline. Done when blue is gone.
 *
 * A failure (a green crashed or timed out) is answered with `failing` so it survives takeover. Before
 * the switch the green set is stopped and the rollout fails. After it, blue is undrained, routing is
 * switched back once a blue instance RUNS, and only then is green stopped; with no blue left the
 * rollout fails with green serving and a rollback owed. Routing is thus never switched to a side
 * without a RUNNING instance, and no instance is stopped before the routing that replaces it is
 * recorded.
 */
export function planBlueGreen(input: RolloutInput): RolloutDecision {
  const { now, deployment } = input;
  const { knobs, revision } = deployment;
  const routing = deployment.routing ?? "blue";
  const sameAs = new Set(deployment.sameAs);
  const isGreen = (i: RolloutInstance) => i.revision >= revision || sameAs.has(i.revision);

  const live = input.instances.filter((i) => !isTerminal(i));
  const present = live.filter((i) => !isLeaving(i));
  const greens = present.filter(isGreen).sort(compareIds);
  const blues = present.filter((i) => !isGreen(i)).sort(compareIds);
  const gates = new Map<string, GateVerdict>();
  for (const g of greens) gates.set(g.id, gateOf(g, knobs, now));
  const passed = (i: RolloutInstance) => gates.get(i.id)?.verdict === "passed";
  const progress: RolloutProgress = {
    updated: greens.filter(passed).length,
    outdated: blues.length,
    total: deployment.totalInstances,
  };
  const decide = (
    verdict: RolloutDecision["verdict"],
    reason: string,
    steps: RolloutStep[],
    extra: Partial<RolloutDecision> = {},
  ): RolloutDecision => ({
    verdict,
    reason,
    steps,
    progress,
    waveOpen: verdict === "progress",
    waveStarted: [],
    gates: [...gates.values()],
    ...extra,
  });

  // Failures: an instance of this revision crashed (not with its node), or a green failed its gate.
  let failing = deployment.failing;
  if (failing === undefined) {
    for (const i of input.instances) {
      if (i.revision === revision && i.state === "CRASHED" && i.lost !== true) {
        failing = `${i.id} crashed`;
        break;
      }
    }
  }
  if (failing === undefined) {
    const failed = [...gates.values()].find((g) => g.verdict === "failed");
    if (failed) failing = `${failed.instance} ${failed.reason}`;
  }
  if (failing !== undefined) return unwind(failing);

  if (routing === "green") {
    const steps: RolloutStep[] = [];
    const deadline = (deployment.switchedAt ?? now) + drainTimeoutOf(deployment.knobs) * 1000;
    let waiting = 0;
    for (const blue of blues) {
      if (ownedByDrain(blue) && blue.state !== "DRAINING") {
        waiting++;
        continue;
      }
      if (blue.state === "RUNNING") {
        steps.push({ kind: "drain", instance: blue.id, reason: `routing switched to r${revision}` });
        waiting++;
      } else if (blue.state === "DRAINING") {
        const players = blue.players ?? 0;
        if (players === 0)
          steps.push({ kind: "stop", instance: blue.id, reason: "blue drained: no players left" });
        else if (now >= deadline)
          steps.push({
            kind: "stop",
            instance: blue.id,
            reason: `blue drain deadline passed (${players} player(s))`,
          });
        else waiting++;
      } else {
        steps.push({
          kind: "stop",
          instance: blue.id,
          reason: `not routed after the switch to r${revision}`,
        });
      }
    }
    if (blues.length === 0)
      return decide(
        "completed",
        `routing on r${revision}; all ${progress.updated} green instance(s) serve`,
        [],
      );
    const stopping = steps.filter((s) => s.kind === "stop").length;
    return decide(
      "progress",
      `routing on r${revision}: ${waiting} blue instance(s) draining${stopping > 0 ? `, ${stopping} stopping` : ""}`,
      steps,
    );
  }

  // Routing blue: the green set, then the switch.
  const greenFor = new Map<string, RolloutInstance>();
  const createdAt = new Map(live.map((i) => [i.id, i.createdAt]));
  for (const g of greens) {
    if (g.replaces === undefined) continue;
    const target = createdAt.get(g.replaces);
    if (target !== undefined && target > g.createdAt) continue; // a reused ID: the link is stale
    const prior = greenFor.get(g.replaces);
    if (prior === undefined || prior.createdAt < g.createdAt) greenFor.set(g.replaces, g);
  }
  const owned = blues.filter((b) => !ownedByDrain(b));
  const missing = owned.filter((b) => !greenFor.has(b.id));
  const pending = greens.filter((g) => !passed(g));
  if (missing.length === 0 && pending.length === 0 && greens.length > 0) {
    if (deployment.state === "PAUSED") return decide("paused", "paused before the switch to green", []);
    return decide("progress", `all ${greens.length} green instance(s) passed: switching routing`, [], {
      switchTo: "green",
    });
  }
  if (missing.length === 0 && greens.length === 0)
    return decide("completed", `nothing to replace: all instances on r${revision}`, []);
  if (missing.length > 0 && deployment.state !== "PAUSED" && input.canPlace) {
    const steps: RolloutStep[] = missing.map((b) => ({
      kind: "replace",
      instance: b.id,
      reason: `green of r${revision}`,
    }));
    return {
      ...decide("progress", `starting green for ${missing.map((b) => b.id).join(", ")}`, steps),
      waveStarted: missing.map((b) => b.id),
    };
  }
  const why =
    missing.length > 0
      ? deployment.state === "PAUSED"
        ? `paused: ${missing.length} green instance(s) not started`
        : "group held: green is not placed"
      : `waiting for ${pending.length} green instance(s) to pass the gate`;
  return decide(deployment.state === "PAUSED" && pending.length === 0 ? "paused" : "progress", why, []);

  function unwind(reason: string): RolloutDecision {
    const record = deployment.failing === undefined ? { failing: reason } : {};
    const steps: RolloutStep[] = [];
    if (routing === "green") {
      const runningBlue = blues.filter((b) => b.state === "RUNNING");
      for (const b of blues)
        if (b.state === "DRAINING" && b.onDrainingNode !== true)
          steps.push({
            kind: "undrain",
            instance: b.id,
            reason: `r${revision} failed: blue takes routing back`,
          });
      if (runningBlue.length > 0)
        return decide("progress", `rolling back (${reason}): switching routing back to blue`, steps, {
          ...record,
          switchTo: "blue",
        });
      if (steps.length > 0)
        return decide("progress", `rolling back (${reason}): blue returning to RUNNING`, steps, record);
      // No blue left to go back to: green keeps serving and a rollback deployment is owed.
      return decide("failed", reason, [], { ...record, rollbackNeeded: greens.some(passed) });
    }
    for (const g of greens)
      steps.push({ kind: "stop", instance: g.id, reason: `deployment r${revision} failed` });
    for (const b of blues)
      if (b.state === "DRAINING" && b.onDrainingNode !== true)
        steps.push({ kind: "undrain", instance: b.id, reason: `r${revision} failed: blue keeps serving` });
    return decide("failed", reason, steps, { ...record, rollbackNeeded: false });
  }
}
