import { AppError } from "../errors.ts";
import { type InstanceState, type LifecycleActor, STATE_OWNER } from "./instance-state.ts";

/**
 * Legal moves between different states. Early states may jump ahead (a daemon can report STARTING before
 * the controller has seen PREPARING) and may fall back to SCHEDULED when a start is re-dispatched. Staying
 * in the same state is always legal and is handled outside this table.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<InstanceState, readonly InstanceState[]>> = {
  SCHEDULED: ["PREPARING", "STARTING", "RUNNING", "STOPPING", "STOPPED", "CRASHED"],
  PREPARING: ["SCHEDULED", "STARTING", "RUNNING", "STOPPING", "STOPPED", "CRASHED"],
  STARTING: ["SCHEDULED", "RUNNING", "STOPPING", "STOPPED", "CRASHED"],
  RUNNING: ["DRAINING", "STOPPING", "STOPPED", "CRASHED"],
  DRAINING: ["RUNNING", "STOPPING", "STOPPED", "CRASHED"],
  STOPPING: ["STOPPED", "CRASHED"],
  STOPPED: [],
  CRASHED: [],
};

/** Named lifecycle events; each one targets a state, so legality is the table above. */
export const INSTANCE_EVENTS = {
  /** Placed again after a start that was never acknowledged. */
  RESCHEDULE: "SCHEDULED",
  /** The daemon accepted the plan and is staging templates and the runtime. */
  PREPARE: "PREPARING",
  /** The daemon spawned the JVM. */
  SPAWN: "STARTING",
  /** The plugin reported ready (or a draining instance is put back into rotation). */
  READY: "RUNNING",
  DRAIN: "DRAINING",
  /** The daemon began stopping the process. */
  STOP: "STOPPING",
  EXIT_CLEAN: "STOPPED",
  CRASH: "CRASHED",
} as const satisfies Record<string, InstanceState>;

export type InstanceEvent = keyof typeof INSTANCE_EVENTS;

export interface TransitionSubject {
  readonly id: string;
  readonly state: InstanceState;
}

export type TransitionResult =
  | { readonly ok: true; readonly from: InstanceState; readonly to: InstanceState; readonly changed: boolean }
  | { readonly ok: false; readonly error: AppError };

/** Whether a move is in the table (ignores who asks); same-state is always true. */
export function canTransition(from: InstanceState, to: InstanceState): boolean {
  return from === to || ALLOWED_TRANSITIONS[from].includes(to);
}

/** The actor that must drive a move into `to`. */
export function transitionOwner(to: InstanceState): LifecycleActor {
  return STATE_OWNER[to];
}

/** Resolves an event name or a target state to the target state. */
export function targetStateOf(eventOrState: InstanceEvent | InstanceState): InstanceState {
  return Object.hasOwn(INSTANCE_EVENTS, eventOrState)
    ? INSTANCE_EVENTS[eventOrState as InstanceEvent]
    : (eventOrState as InstanceState);
}

/**
 * Applies one lifecycle move for `actor`. Illegal moves and moves into a state the other side owns come
 * back as an ILLEGAL_STATE error value naming from and to; nothing is thrown. A same-state move succeeds
 * with `changed: false` for either actor (repeated reports are normal after a reconnect).
 */
export function transition(
  instance: TransitionSubject,
  eventOrState: InstanceEvent | InstanceState,
  actor: LifecycleActor,
): TransitionResult {
  const from = instance.state;
  const to = targetStateOf(eventOrState);
  if (from === to) return { ok: true, from, to, changed: false };

  const owner = STATE_OWNER[to];
  const details = { instanceId: instance.id, from, to, actor, owner };
  if (!ALLOWED_TRANSITIONS[from].includes(to)) {
    return {
      ok: false,
      error: new AppError(
        "ILLEGAL_STATE",
        `instance ${instance.id}: illegal transition ${from} -> ${to}`,
        details,
      ),
    };
  }
  if (owner !== actor) {
    return {
      ok: false,
      error: new AppError(
        "ILLEGAL_STATE",
        `instance ${instance.id}: ${from} -> ${to} is decided by the ${owner}, not the ${actor}`,
        details,
      ),
    };
  }
  return { ok: true, from, to, changed: true };
}

/** `transition` for callers that treat an illegal move as a bug: returns the new state or throws. */
export function transitionOrThrow(
  instance: TransitionSubject,
  eventOrState: InstanceEvent | InstanceState,
  actor: LifecycleActor,
): InstanceState {
  const result = transition(instance, eventOrState, actor);
  if (!result.ok) throw result.error;
  return result.to;
}

/**
 * State to record when re-adopting an instance a daemon reports after a reconnect or a controller
 * takeover. The daemon never reports RUNNING (the controller decides it on the plugin's ready call), so a
 * live process it still calls STARTING may well have been ready for a long time; leaving it in STARTING
 * would hide it from routing and trip its startup timeout.
 */
export function stateOnReadopt(reported: InstanceState, processAlive: boolean): InstanceState {
  return reported === "STARTING" && processAlive ? "RUNNING" : reported;
}
