import { systemClock } from "../../core/clock.ts";

/** Keys tracked at most; the oldest window is dropped past this, so a flood of IPs cannot grow it. */
const MAX_KEYS = 10_000;

/**
 * A fixed-window counter in this process: the stand-in for the shared limiter while the
 * coordination store is unreachable. Per controller, so the effective limit is N × limit across N
 * controllers for the length of the outage; good enough to stop one client flooding reads.
 */
export class LocalRateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly now: () => number = systemClock.now) {}

  hit(key: string, limit: number, windowMs: number): { allowed: boolean; retryAfterMs: number } {
    const at = this.now();
    let window = this.windows.get(key);
    if (!window || at - window.start >= windowMs) {
      this.windows.delete(key);
      if (this.windows.size >= MAX_KEYS) this.windows.delete(this.windows.keys().next().value!);
      window = { start: at, count: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    return { allowed: window.count <= limit, retryAfterMs: window.start + windowMs - at };
  }
}
