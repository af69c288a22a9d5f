import { countsTowardLimits } from "./instance-state.ts";
import { bounds } from "./scaling.ts";
import type { SchedGroup, SchedInstance } from "./types.ts";

export type DrainVerdict =
  | { readonly kind: "stop"; readonly instance: SchedInstance; readonly reason: string }
  /** Occupied and no longer needed: serve the players it has, take no new ones (state DRAINING). */
  | { readonly kind: "drain"; readonly instance: SchedInstance; readonly reason: string }
  | { readonly kind: "replace"; readonly instance: SchedInstance; readonly reason: string }
  | {
      readonly kind: "keep";
      readonly instance: SchedInstance;
      readonly reason: string;
      /** Still counted against min/max: true unless a live replacement already stands in for it. */
      readonly counts: boolean;
    };

export interface DrainFacts {
  readonly group: SchedGroup;
  /** The group's non-terminal instances on DRAINING nodes. */
  readonly onDrainingNodes: readonly SchedInstance[];
  /** Active instances of the group elsewhere, replacements placed by earlier ticks included. */
  readonly activeElsewhere: number;
  /** The live (non-terminal) instance created to replace this one, if any. */
  readonly replacementOf: (id: string) => SchedInstance | undefined;
  readonly deadlinePassed: (instance: SchedInstance) => boolean;
  /** The node's kick message: the stop reason of an instance that still has players at the deadline. */
  readonly kickMessageOf?: (instance: SchedInstance) => string | undefined;
  readonly playersOf: (instance: SchedInstance) => number;
  /** Pause-class holds forbid placing; wait-class holds defer it. */
  readonly hold: "pause" | "wait" | undefined;
}

/**
 * What happens to each instance on a draining node. One the group still needs is replaced elsewhere
 * first and leaves once the replacement RUNS, so the group does not dip; one it does not need (enough
 * instances elsewhere, or the group is held) leaves straight away. Leaving means: stopped if empty,
 * otherwise DRAINING until its players are gone. Past the node's drain deadline everything left is
 * stopped, players or not, so the node always ends empty. The group keeps its current size within
 * [min, max] (STATIC: exactly min); occupied instances are replaced first because their players need
 * somewhere to go.
 */
export function planDrain(facts: DrainFacts): DrainVerdict[] {
  const { group } = facts;
  const leaving = facts.onDrainingNodes.filter((i) => i.state !== "STOPPING");
  if (leaving.length === 0) return [];
  leaving.sort((a, b) => facts.playersOf(b) - facts.playersOf(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const unreplaced = leaving.filter(
    (i) => countsTowardLimits(i.state) && facts.replacementOf(i.id) === undefined,
  );
  const { min, max } = bounds(group);
  const current = facts.activeElsewhere + unreplaced.length;
  const target = group.scalingMode === "STATIC" ? min : Math.min(max, Math.max(min, current));
  const leave = (instance: SchedInstance, why: string): DrainVerdict => leaveVerdict(facts, instance, why);

  let elsewhere = facts.activeElsewhere;
  const verdicts: DrainVerdict[] = [];
  for (const instance of leaving) {
    if (facts.deadlinePassed(instance)) {
      verdicts.push({ kind: "stop", instance, reason: deadlineReason(facts, instance) });
      continue;
    }
    const replacement = facts.replacementOf(instance.id);
    if (replacement !== undefined) {
      if (replacement.state === "RUNNING") {
        verdicts.push(leave(instance, `replacement ${replacement.id} is RUNNING`));
      } else {
        const reason = `node draining: waiting for replacement ${replacement.id}`;
        verdicts.push({ kind: "keep", instance, reason, counts: false });
      }
      continue;
    }
    if (!countsTowardLimits(instance.state)) {
      verdicts.push(leave(instance, `instance already ${instance.state}`));
    } else if (facts.hold === "pause") {
      verdicts.push(leave(instance, "group held, not replaced"));
    } else if (facts.hold === "wait") {
      verdicts.push({ kind: "keep", instance, reason: "node draining: replacement deferred", counts: true });
    } else if (elsewhere < target) {
      elsewhere++;
      verdicts.push({ kind: "replace", instance, reason: "node draining" });
    } else {
      verdicts.push(leave(instance, "enough instances elsewhere"));
    }
  }
  return verdicts;
}

/** Empty: stop. Occupied and serving: DRAINING, then kept (not counted) until the players are gone. */
function leaveVerdict(facts: DrainFacts, instance: SchedInstance, why: string): DrainVerdict {
  const players = facts.playersOf(instance);
  const serving = instance.state === "RUNNING" || instance.state === "DRAINING";
  if (players === 0 || !serving) return { kind: "stop", instance, reason: `node draining: ${why}` };
  if (instance.state === "DRAINING") {
    const reason = `node draining: waiting for ${players} player(s) to leave`;
    return { kind: "keep", instance, reason, counts: false };
  }
  return { kind: "drain", instance, reason: `node draining: ${why}; ${players} player(s) still on it` };
}

function deadlineReason(facts: DrainFacts, instance: SchedInstance): string {
  const kick = facts.kickMessageOf?.(instance);
  return facts.playersOf(instance) > 0 && kick ? kick : "node draining: deadline passed";
}
