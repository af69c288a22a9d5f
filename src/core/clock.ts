/**
 * The one time port: what time it is, and timers. Domain code and services take a `Clock` instead of
 * calling `Date.now()`, `setTimeout` or `Bun.sleep`, so a test moves time by advancing a manual clock
 * (tests/support/manual-clock.ts) and nothing waits on the wall. Boot wires `systemClock`.
 *
 * Handles are opaque: a clearing call accepts whatever its own setter returned (or undefined).
 */
export type TimerHandle = unknown;

export interface TimerOptions {
  /** the timer does not keep the process alive (background upkeep, not work anyone waits for) */
  unref?: boolean;
}

export interface Clock {
  /** milliseconds since the epoch */
  now(): number;
  setTimeout(callback: () => void, ms: number, options?: TimerOptions): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(callback: () => void, ms: number, options?: TimerOptions): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
  /** resolves after `ms`, or as soon as `signal` aborts (never rejects) */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

type NodeTimer = ReturnType<typeof setTimeout>;

function unrefIf(timer: NodeTimer, options?: TimerOptions): NodeTimer {
  if (options?.unref) timer.unref?.();
  return timer;
}

/** The wall clock and the runtime's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms, options) => unrefIf(setTimeout(callback, ms), options),
  clearTimeout: (handle) => clearTimeout(handle as NodeTimer | undefined),
  setInterval: (callback, ms, options) => unrefIf(setInterval(callback, ms), options),
  clearInterval: (handle) => clearInterval(handle as NodeTimer | undefined),
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
};

/** `sleep` for any clock, built on its own setTimeout, so a manual clock's sleeps end on `advance`. */
export function sleepOn(clock: Pick<Clock, "setTimeout" | "clearTimeout">, ms: number, signal?: AbortSignal) {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clock.clearTimeout(handle);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const handle = clock.setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
