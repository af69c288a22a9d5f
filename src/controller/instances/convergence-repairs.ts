import type { InstanceState } from "../../core/lifecycle/index.ts";

/**
 * What the controller does about one instance record whose node's report disagrees with it: the
 * level-triggered half of the lifecycle. A command is a hint that may be lost (relayed to nobody, a
 * stream that broke, a controller paused between writing the record and sending the frame); the
 * record is the desired state, and every report is compared with it. Pure: the reconciler applies
 * the answer.
 */
export interface RepairLimits {
  /** a start or stop the node's report does not reflect after this long is sent again */
  resendAfterMs: number;
  /** deliveries of one start before the verdict; the last stop of a series is forced */
  maxSends: number;
  /** a node still PREPARING (files, artifacts) after this long is told to stop */
  prepareTimeoutMs: number;
}

export const DEFAULT_REPAIR_LIMITS: RepairLimits = {
  resendAfterMs: 10_000,
  maxSends: 3,
  prepareTimeoutMs: 15 * 60_000,
};

/**
 * Resends follow the heartbeat (reports arrive once per interval, so a shorter wait sees nothing
 * new), clamped so a fast test cluster retries within a second and a default one within 10 s.
 */
export function repairLimitsFor(heartbeatIntervalMs: number): RepairLimits {
  return {
    ...DEFAULT_REPAIR_LIMITS,
    resendAfterMs: Math.min(10_000, Math.max(1000, 2 * heartbeatIntervalMs)),
  };
}

/** The fields of an instance record a repair depends on. */
export interface RepairView {
  state: InstanceState;
  stateChangedAt: number;
  dispatchedAt?: number;
  dispatchCount?: number;
  stopSentAt?: number;
  stopCount?: number;
}

export type Repair =
  | { kind: "none" }
  | { kind: "redispatch" }
  | { kind: "resend-stop"; force: boolean }
  | { kind: "stop-stuck-prepare"; reason: string }
  | { kind: "verdict"; state: "CRASHED"; reason: string };

const NONE: Repair = { kind: "none" };
/** States in which the node's process is still up, so a stop has not taken effect. */
export const PROCESS_UP = new Set<InstanceState>(["PREPARING", "STARTING", "RUNNING", "DRAINING"]);

/**
 * `reported` is the node's state for the instance, or undefined when the node's full report does
 * not list it. Records the node lists in a state it reached by itself are the reporter's business
 * (LifecycleReconciler.apply); this covers the commands that did not arrive.
 */
export function repairFor(
  doc: RepairView,
  reported: InstanceState | undefined,
  now: number,
  limits: RepairLimits,
): Repair {
  if (reported === undefined) {
    if (doc.state !== "SCHEDULED") return NONE;
    if (now - (doc.dispatchedAt ?? 0) < limits.resendAfterMs) return NONE;
    if ((doc.dispatchCount ?? 0) < limits.maxSends) return { kind: "redispatch" };
    return {
      kind: "verdict",
      state: "CRASHED",
      reason: `the node did not take the start after ${doc.dispatchCount} deliveries; placed again`,
    };
  }
  if (doc.state === "STOPPING" && PROCESS_UP.has(reported)) {
    if (now - (doc.stopSentAt ?? doc.stateChangedAt) < limits.resendAfterMs) return NONE;
    // The last of a series is forced: a process that ignores its stop command is killed.
    return { kind: "resend-stop", force: (doc.stopCount ?? 1) + 1 >= limits.maxSends };
  }
  if (doc.state === "PREPARING" && reported === "PREPARING") {
    if (now - doc.stateChangedAt < limits.prepareTimeoutMs) return NONE;
    return {
      kind: "stop-stuck-prepare",
      reason: `still preparing after ${Math.round(limits.prepareTimeoutMs / 1000)} s; stopped so it is placed again`,
    };
  }
  return NONE;
}
