import type { Lease } from "../../../coord/port.ts";
import type { Logger } from "../../../log/logger.ts";
import type { InstanceLifecycle } from "../../instances/instance-lifecycle.ts";
import type { Action, DrainAction, PlaceAction, ReplaceAction, StopAction, UndrainAction } from "../types.ts";
import { fenceOf, type ScopedLeases } from "./scoped-leases.ts";

export type SideEffect = PlaceAction | ReplaceAction | StopAction | DrainAction | UndrainAction;

export interface ActionOutcome {
  readonly action: SideEffect;
  readonly outcome: "applied" | "failed" | "aborted";
  readonly detail?: string;
}

export interface GroupExecution {
  readonly group: string;
  readonly outcomes: ActionOutcome[];
  /** Set when the group did nothing or stopped early, with why. */
  readonly wait?: string;
  /** The lease the group ran under, when it got one and kept it to the end. */
  readonly lease?: Lease;
}

export function isSideEffect(action: Action): action is SideEffect {
  return (
    action.kind === "place" ||
    action.kind === "replace" ||
    action.kind === "stop" ||
    action.kind === "drain" ||
    action.kind === "undrain"
  );
}

/**
 * Carries out one group's actions under its `group:<name>` lease. Every side effect is preceded by an
 * `isLeaseCurrent` check: a lease lost mid-group (expiry during a slow step, a takeover) abandons the rest,
 * which the new owner decides afresh. The fence goes into every lifecycle call so the store refuses a
 * write that still races the takeover. One action's failure is logged and the group moves on: actions
 * of a group are independent (distinct IDs, ports and capacity were decided together).
 */
export class GroupExecutor {
  constructor(
    private readonly deps: {
      leases: ScopedLeases;
      lifecycle: InstanceLifecycle;
      log: Logger;
    },
  ) {}

  /** `revision`: the deployment revision every placement of this run is stamped with. */
  async run(group: string, actions: readonly SideEffect[], revision = 0): Promise<GroupExecution> {
    const lease = await this.deps.leases.hold(`group:${group}`);
    if (lease === null) return { group, outcomes: [], wait: "leased by another controller" };
    const outcomes: ActionOutcome[] = [];
    for (let k = 0; k < actions.length; k++) {
      const action = actions[k]!;
      if (!(await this.deps.leases.isCurrent(lease))) {
        for (const rest of actions.slice(k)) {
          outcomes.push({ action: rest, outcome: "aborted", detail: "group lease lost" });
        }
        this.deps.log.warn(
          { group, left: actions.length - k },
          "group lease lost mid-tick; rest left to its new owner",
        );
        return { group, outcomes, wait: "group lease lost before the next step; left to its new owner" };
      }
      try {
        await this.apply(action, lease, revision);
        outcomes.push({ action, outcome: "applied" });
      } catch (err) {
        const detail = (err as Error).message;
        this.deps.log.warn({ group, action: action.kind, err }, "scheduler action failed");
        outcomes.push({ action, outcome: "failed", detail });
      }
    }
    return { group, outcomes, lease };
  }

  private async apply(action: SideEffect, lease: Lease, revision: number): Promise<void> {
    const fence = fenceOf(lease);
    const { lifecycle } = this.deps;
    switch (action.kind) {
      case "place":
        await lifecycle.place({
          instanceId: action.instanceId,
          group: action.group,
          node: action.node,
          port: action.port,
          fence,
          reason: action.reason,
          deploymentRevision: revision,
        });
        return;
      case "replace": {
        await lifecycle.place({
          instanceId: action.instanceId,
          group: action.group,
          node: action.node,
          port: action.port,
          fence,
          reason: `${action.reason} (replaces ${action.instance})`,
          deploymentRevision: revision,
          replaces: action.instance,
        });
        // The link (on the record the lifecycle writes) lets the next tick stop the old instance
        // once the new one RUNS rather than replace it again; on the record, it survives a restart.
        return;
      }
      case "stop":
        await lifecycle.stop({ instanceId: action.instance, reason: action.reason, fence, force: false });
        return;
      case "drain":
        await lifecycle.drain({ instanceId: action.instance, reason: action.reason, fence });
        return;
      case "undrain":
        await lifecycle.undrain({ instanceId: action.instance, reason: action.reason, fence });
        return;
    }
  }
}
