import { type InstanceState, isTerminalState } from "../../core/lifecycle/instance-state.ts";

/**
 * The scheduler's reading of instance states. "Terminal" is core's (`isTerminalState`): gone, holds
 * neither a port nor memory, and its ID may only be reused once the record is cleaned up. Core's
 * `isServingState` (RUNNING or DRAINING) is a different question from `countsTowardLimits` below.
 */
export { isTerminalState };

/**
 * Counts against min/max. STOPPING is left out (unlike upstream) because it is already leaving: counting
 * it would delay the replacement of a stopped STATIC instance by a whole shutdown grace period.
 */
export function countsTowardLimits(state: InstanceState): boolean {
  return state === "SCHEDULED" || state === "PREPARING" || state === "STARTING" || state === "RUNNING";
}

/** Placed but not serving yet: its memory may not show in the node's heartbeat. */
export function isPending(state: InstanceState): boolean {
  return state === "SCHEDULED" || state === "PREPARING" || state === "STARTING";
}
