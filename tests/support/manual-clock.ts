import { type Clock, sleepOn, type TimerHandle } from "../../src/core/clock.ts";

interface Pending {
  id: number;
  at: number;
  callback: () => void;
  /** set for intervals: re-armed this far after each firing */
  every?: number;
}

/**
 * A clock whose time moves only through `advance`. Timers fire in due order (ties in the order they
 * were set), each at its own due time, with promise callbacks run between firings, so code that
 * awaits after a timer sees the world as it would with real time. An interval fires once per period
 * passed, as it would on the wall; one `advance` fires at most MAX_FIRINGS timers and then fails, so a
 * runaway interval ends the test instead of hanging it.
 */
const MAX_FIRINGS = 100_000;

export class ManualClock implements Clock {
  private t: number;
  private pending: Pending[] = [];
  private nextId = 0;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }

  /** a property, so `clock.now` can be handed on unbound like the system clock's */
  readonly now = (): number => this.t;

  setTimeout(callback: () => void, ms: number): TimerHandle {
    return this.add(callback, ms);
  }

  setInterval(callback: () => void, ms: number): TimerHandle {
    return this.add(callback, ms, Math.max(1, ms));
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Timers waiting, as delays from now (for asserting what is armed). */
  get scheduled(): number[] {
    return this.pending.map((p) => p.at - this.t).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing every timer that comes due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (let fired = 0; ; fired++) {
      if (fired >= MAX_FIRINGS) throw new Error(`ManualClock.advance(${ms}) fired ${MAX_FIRINGS} timers`);
      await flush();
      const next = this.pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      if (next.every === undefined) this.clearTimeout(next.id);
      else next.at += next.every;
      next.callback();
    }
    this.t = end;
    await flush();
  }

  private add(callback: () => void, ms: number, every?: number): number {
    const id = ++this.nextId;
    this.pending.push({ id, at: this.t + Math.max(0, ms), callback, every });
    return id;
  }
}

/** Lets queued promise callbacks (and the ones they queue) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
