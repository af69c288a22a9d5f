import { countsAsActive } from "./instance-state.ts";
import { bounds } from "./scaling.ts";
import type { SchedGroup, SchedInstance } from "./types.ts";

export type DrainVerdict =
  | { readonly kind: "stop"; readonly instance: SchedInstance; readonly reason: string }
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
  readonly playersOf: (instance: SchedInstance) => number;
  /** Pause-class holds forbid placing; wait-class holds defer it. */
  readonly hold: "pause" | "wait" | undefined;
}

/**
 * What happens to each instance on a draining node: replaced elsewhere first and stopped once the
 * replacement RUNS (so the group does not dip), or stopped straight away when the group has enough
 * instances elsewhere, is held, or the node's drain deadline has passed (so the node always ends empty).
 * The group keeps its current size within [min, max] (STATIC: exactly min); occupied instances are
 * replaced first because their players need somewhere to go.
 */
export function planDrain(facts: DrainFacts): DrainVerdict[] {
  const { group } = facts;
  const leaving = facts.onDrainingNodes.filter((i) => i.state !== "STOPPING");
  if (leaving.length === 0) return [];
  leaving.sort((a, b) => facts.playersOf(b) - facts.playersOf(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const unreplaced = leaving.filter(
    (i) => countsAsActive(i.state) && facts.replacementOf(i.id) === undefined,
  );
  const { min, max } = bounds(group);
  const current = facts.activeElsewhere + unreplaced.length;
  const target = group.scalingMode === "STATIC" ? min : Math.min(max, Math.max(min, current));

  let elsewhere = facts.activeElsewhere;
  const verdicts: DrainVerdict[] = [];
  for (const instance of leaving) {
    const replacement = facts.replacementOf(instance.id);
    if (replacement !== undefined) {
      if (replacement.state === "RUNNING") {
        verdicts.push({
          kind: "stop",
          instance,
          reason: `node draining: replacement ${replacement.id} is RUNNING`,
        });
      } else if (facts.deadlinePassed(instance)) {
        verdicts.push({ kind: "stop", instance, reason: "node draining: deadline passed" });
      } else {
        const reason = `node draining: waiting for replacement ${replacement.id}`;
        verdicts.push({ kind: "keep", instance, reason, counts: false });
      }
      continue;
    }
    if (facts.deadlinePassed(instance)) {
      verdicts.push({ kind: "stop", instance, reason: "node draining: deadline passed" });
    } else if (!countsAsActive(instance.state)) {
      verdicts.push({ kind: "stop", instance, reason: `node draining: instance already ${instance.state}` });
    } else if (facts.hold === "pause") {
      verdicts.push({ kind: "stop", instance, reason: "node draining: group held, not replaced" });
    } else if (facts.hold === "wait") {
      verdicts.push({ kind: "keep", instance, reason: "node draining: replacement deferred", counts: true });
    } else if (elsewhere < target) {
      elsewhere++;
      verdicts.push({ kind: "replace", instance, reason: "node draining" });
    } else {
      verdicts.push({ kind: "stop", instance, reason: "node draining: enough instances elsewhere" });
    }
  }
  return verdicts;
}
