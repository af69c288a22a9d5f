import type { NodeDoc } from "../../nodes/node-doc.ts";
import { countsTowardLimits } from "../instance-state.ts";
import type { Action, SchedGroup, SchedInstance } from "../types.ts";

export interface GateVerdict {
  readonly open: boolean;
  readonly reported: number;
  readonly known: number;
}

export interface GatedActions {
  readonly actions: Action[];
  /** Per group, why some of its actions were held back. */
  readonly held: Map<string, string>;
}

/**
 * After the loop starts, the store's view of instances may be stale until the daemons re-report: a
 * scale-down or replacement decided on it could stop a healthy instance or double one. So until every
 * known node has reported since the start (or the window passes), only the missing minimum of each
 * group is placed. Once open, the gate stays open.
 */
export class ConvergenceGate {
  private opened = false;

  constructor(
    private readonly startedAt: number,
    private readonly windowMs: number,
  ) {}

  check(now: number, nodes: readonly NodeDoc[]): GateVerdict {
    const reported = nodes.filter((n) => (n.lastSeen ?? 0) >= this.startedAt).length;
    if (!this.opened && (now - this.startedAt >= this.windowMs || reported === nodes.length)) {
      this.opened = true;
    }
    return { open: this.opened, reported, known: nodes.length };
  }

  /** Keeps each group's placements up to its minimum; drops stops, replacements and scale-ups. */
  filter(
    actions: readonly Action[],
    groups: readonly SchedGroup[],
    instances: readonly SchedInstance[],
    verdict: GateVerdict,
  ): GatedActions {
    const floor = new Map<string, number>();
    for (const g of groups) floor.set(g.name, g.minInstances);
    for (const inst of instances) {
      if (!countsTowardLimits(inst.state)) continue;
      const left = floor.get(inst.group);
      if (left !== undefined) floor.set(inst.group, left - 1);
    }
    const reason = `waiting for nodes to report after start-up (${verdict.reported} of ${verdict.known})`;
    const kept: Action[] = [];
    const held = new Map<string, string>();
    for (const action of actions) {
      if (action.kind === "place") {
        const left = floor.get(action.group) ?? 0;
        if (left > 0) {
          floor.set(action.group, left - 1);
          kept.push(action);
          continue;
        }
      } else if (action.kind === "pause" || action.kind === "wait") {
        kept.push(action);
        continue;
      }
      held.set(action.group, reason);
    }
    return { actions: kept, held };
  }
}
