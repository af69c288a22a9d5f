/** Instance lifecycle states with their wire numbers (proto `InstanceState`, 0 is unspecified). */
export const INSTANCE_STATE_NUMBERS = {
  SCHEDULED: 1,
  PREPARING: 2,
  STARTING: 3,
  RUNNING: 4,
  STOPPING: 5,
  STOPPED: 6,
  CRASHED: 7,
  DRAINING: 8,
} as const;

export type InstanceState = keyof typeof INSTANCE_STATE_NUMBERS;

export const INSTANCE_STATES = Object.keys(INSTANCE_STATE_NUMBERS) as readonly InstanceState[];

/** Who is the authority for entering a state; the other side may only report, never decide it. */
export type LifecycleActor = "controller" | "daemon";

export const STATE_OWNER: Readonly<Record<InstanceState, LifecycleActor>> = {
  SCHEDULED: "controller",
  PREPARING: "daemon",
  STARTING: "daemon",
  RUNNING: "controller",
  DRAINING: "controller",
  STOPPING: "daemon",
  STOPPED: "controller",
  CRASHED: "controller",
};

/** Serving players: counts toward the group's live capacity. */
export const SERVING_STATES = ["RUNNING", "DRAINING"] as const satisfies readonly InstanceState[];

/** The process is gone; the record only waits for cleanup. */
export const TERMINAL_STATES = ["STOPPED", "CRASHED"] as const satisfies readonly InstanceState[];

export function isServingState(state: InstanceState): boolean {
  return (SERVING_STATES as readonly InstanceState[]).includes(state);
}

export function isTerminalState(state: InstanceState): boolean {
  return (TERMINAL_STATES as readonly InstanceState[]).includes(state);
}

export function isTransitionalState(state: InstanceState): boolean {
  return !isServingState(state) && !isTerminalState(state);
}

export function isInstanceState(value: string): value is InstanceState {
  return Object.hasOwn(INSTANCE_STATE_NUMBERS, value);
}

export function instanceStateFromNumber(value: number): InstanceState | undefined {
  return INSTANCE_STATES.find((state) => INSTANCE_STATE_NUMBERS[state] === value);
}

/** Seconds a terminal record stays in live state before cleanup removes it. */
export const TERMINAL_RETENTION_SECONDS: Readonly<Record<"STOPPED" | "CRASHED", number>> = {
  STOPPED: 60,
  CRASHED: 300,
};
