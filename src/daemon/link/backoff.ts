export interface BackoffSettings {
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  /** 0..1: each delay is spread uniformly over ±jitter of its nominal value */
  jitter: number;
}

/**
 * Exponential reconnect delays with jitter: initial, ×multiplier per failure, capped at max.
 * Jitter spreads daemons that lost the same controller at the same moment, so they do not all
 * redial it in the same instant when it comes back. `reset()` after a session got established.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly settings: BackoffSettings,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; advances the sequence. */
  next(): number {
    const { initialDelayMs, maxDelayMs, multiplier, jitter } = this.settings;
    const nominal = Math.min(maxDelayMs, initialDelayMs * multiplier ** this.attempt);
    this.attempt++;
    const spread = 1 - jitter + 2 * jitter * this.random();
    return Math.max(1, Math.min(maxDelayMs, Math.round(nominal * spread)));
  }

  reset(): void {
    this.attempt = 0;
  }
}
