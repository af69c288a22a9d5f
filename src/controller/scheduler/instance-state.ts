import type { InstanceState } from "./types.ts";

/** Gone: holds neither a port nor memory, and its ID may only be reused once the record is cleaned up. */
export function isTerminal(state: InstanceState): boolean {
  return state === "STOPPED" || state === "CRASHED";
}

/**
 * Counts against min/max. STOPPING is left out (unlike upstream) because it is already leaving: counting
 * it would delay the replacement of a stopped STATIC instance by a whole shutdown grace period.
 */
export function countsAsActive(state: InstanceState): boolean {
  return state === "SCHEDULED" || state === "PREPARING" || state === "STARTING" || state === "RUNNING";
}

/** Placed but not serving yet: its memory may not show in the node's heartbeat. */
export function isPending(state: InstanceState): boolean {
  return state === "SCHEDULED" || state === "PREPARING" || state === "STARTING";
}
