/**
 * Crash-loop detection for one group, as a pure state machine: the caller owns the state (one per group),
 * passes the clock in, and acts on the returned decisions (pause/unpause the group, publish
 * GROUP_CRASH_LOOP). Nothing here schedules anything; the scheduler tick calls `checkAutoUnpause`.
 */
export interface CrashLoopConfig {
  /** Crashes within the window that trip a pause (`crashes.crashLoopThreshold`). */
  readonly threshold: number;
  /** Sliding window length (`crashes.crashLoopWindowSeconds`). */
  readonly windowSeconds: number;
  /** First pause length; each consecutive pause doubles it... */
  readonly initialCooldownSeconds: number;
  /** ...up to this cap. */
  readonly maxCooldownSeconds: number;
  /** A trip this long after the last auto-unpause starts the backoff over. */
  readonly backoffResetSeconds: number;
}

export const DEFAULT_CRASH_LOOP_CONFIG: CrashLoopConfig = {
  threshold: 3,
  windowSeconds: 300,
  initialCooldownSeconds: 60,
  maxCooldownSeconds: 3600,
  backoffResetSeconds: 3600,
};

export interface CrashLoopState {
  /** Crash times (epoch ms) inside the window, ascending. */
  readonly crashTimesMs: readonly number[];
  /** Set while paused. */
  readonly pausedUntilMs: number | null;
  /** Pauses since the backoff last started over; the next cooldown doubles per pause. */
  readonly consecutivePauses: number;
  readonly lastUnpausedAtMs: number | null;
}

export const INITIAL_CRASH_LOOP_STATE: CrashLoopState = {
  crashTimesMs: [],
  pausedUntilMs: null,
  consecutivePauses: 0,
  lastUnpausedAtMs: null,
};

export type CrashLoopDecision =
  | {
      readonly type: "pause";
      readonly crashCount: number;
      /** Start of the window that tripped (now − window), as GROUP_CRASH_LOOP reports it. */
      readonly windowStartMs: number;
      readonly pausedUntilMs: number;
      readonly cooldownSeconds: number;
    }
  | { readonly type: "unpause"; readonly reason: "cooldown-elapsed" };

export interface CrashLoopStep {
  readonly state: CrashLoopState;
  readonly decisions: readonly CrashLoopDecision[];
}

/** Cooldown of the n-th consecutive pause (n ≥ 1): initial × 2^(n-1), capped. */
export function cooldownSecondsFor(
  consecutivePause: number,
  config: CrashLoopConfig = DEFAULT_CRASH_LOOP_CONFIG,
): number {
  const doublings = Math.max(0, consecutivePause - 1);
  // Past ~30 doublings the product is astronomically above any cap; stop before it overflows.
  if (doublings >= 31) return config.maxCooldownSeconds;
  return Math.min(config.initialCooldownSeconds * 2 ** doublings, config.maxCooldownSeconds);
}

export function isCrashLoopPaused(state: CrashLoopState, nowMs: number): boolean {
  return state.pausedUntilMs !== null && nowMs < state.pausedUntilMs;
}

/** Lifts a pause whose cooldown has elapsed. The window is kept: only a manual unpause forgets crashes. */
export function checkAutoUnpause(state: CrashLoopState, nowMs: number): CrashLoopStep {
  if (state.pausedUntilMs === null || nowMs < state.pausedUntilMs) return { state, decisions: [] };
  return {
    state: { ...state, pausedUntilMs: null, lastUnpausedAtMs: nowMs },
    decisions: [{ type: "unpause", reason: "cooldown-elapsed" }],
  };
}

/**
 * Records one crash (at `crashedAtMs`, which may lie in the past for a report replayed after a
 * reconnect) and trips a pause when the window now holds `threshold` crashes and the group is not
 * already paused. Crashes during a pause still count toward the window.
 */
export function recordCrash(
  state: CrashLoopState,
  crashedAtMs: number,
  nowMs: number,
  config: CrashLoopConfig = DEFAULT_CRASH_LOOP_CONFIG,
): CrashLoopStep {
  const unpaused = checkAutoUnpause(state, nowMs);
  const windowStartMs = nowMs - config.windowSeconds * 1000;
  const crashTimesMs = [...unpaused.state.crashTimesMs, crashedAtMs]
    .filter((time) => time >= windowStartMs)
    .sort((a, b) => a - b);
  const next: CrashLoopState = { ...unpaused.state, crashTimesMs };

  if (next.pausedUntilMs !== null || crashTimesMs.length < config.threshold) {
    return { state: next, decisions: unpaused.decisions };
  }

  const calmSinceUnpause = next.lastUnpausedAtMs === null ? 0 : nowMs - next.lastUnpausedAtMs;
  const previousPauses = calmSinceUnpause >= config.backoffResetSeconds * 1000 ? 0 : next.consecutivePauses;
  const consecutivePauses = previousPauses + 1;
  const cooldownSeconds = cooldownSecondsFor(consecutivePauses, config);
  const pausedUntilMs = nowMs + cooldownSeconds * 1000;
  return {
    state: { ...next, pausedUntilMs, consecutivePauses },
    decisions: [
      ...unpaused.decisions,
      { type: "pause", crashCount: crashTimesMs.length, windowStartMs, pausedUntilMs, cooldownSeconds },
    ],
  };
}

/** An operator lifted the pause: forget the window and start the backoff over. */
export function manualUnpause(nowMs: number): CrashLoopState {
  return { ...INITIAL_CRASH_LOOP_STATE, lastUnpausedAtMs: nowMs };
}

/**
 * Rebuilds a group's state after a controller restart from its stored crash times, replaying each at the
 * moment it happened, so pauses and backoff come out as if the controller had never stopped.
 */
export function replayCrashes(
  crashTimesMs: readonly number[],
  nowMs: number,
  config: CrashLoopConfig = DEFAULT_CRASH_LOOP_CONFIG,
): CrashLoopState {
  let state = INITIAL_CRASH_LOOP_STATE;
  for (const time of [...crashTimesMs].sort((a, b) => a - b)) {
    if (time > nowMs) break;
    state = recordCrash(state, time, time, config).state;
  }
  const current = checkAutoUnpause(state, nowMs).state;
  const windowStartMs = nowMs - config.windowSeconds * 1000;
  return { ...current, crashTimesMs: current.crashTimesMs.filter((time) => time >= windowStartMs) };
}
