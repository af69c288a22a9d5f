import type { Coordination, Lease } from "../coord/port.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { AppError } from "../core/errors.ts";
import type { DurableStore, Fence } from "../store/port.ts";

export interface LeaseGateOptions {
  coord: Coordination;
  /** consulted once per acquisition, so tokens stay above what the store already accepted */
  store?: DurableStore;
  holder: string;
  ttlMs?: number;
  /** how long to wait for a lease another controller holds */
  waitMs?: number;
  /** the wait's deadline and back-off sleeps (system clock when absent) */
  clock?: Clock;
}

/**
 * Runs one guarded mutation: take the scope's lease (waiting briefly if another controller has
 * it), hand the fencing token to `fn` for its store writes, release. If the lease is lost while
 * `fn` runs, the store refuses the late writes with STALE_FENCING_TOKEN.
 */
export async function withLease<T>(
  options: LeaseGateOptions,
  scope: string,
  fn: (fence: Fence) => Promise<T>,
): Promise<T> {
  const ttl = options.ttlMs ?? 15_000;
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + (options.waitMs ?? 3000);
  let delay = 10;
  for (;;) {
    const lease = await acquireAboveHighWater(options, scope, ttl);
    if (lease) {
      try {
        return await fn({ scope, token: lease.token });
      } finally {
        // release is a courtesy: an unreleased lease expires after its TTL, and its token stays fenced
        await options.coord.releaseLease(lease).catch(() => false);
      }
    }
    if (clock.now() >= deadline) {
      throw new AppError("CONFLICT", `"${scope}" is being changed by another controller; retry shortly`, {
        scope,
      });
    }
    await clock.sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
}

/**
 * Takes the lease, making sure its token is above the highest one the durable store accepted.
 * After an in-memory coordination restart or a wiped Valkey the counter starts low again; without
 * this every fenced write would be refused as stale until the counter caught up.
 */
export async function acquireAboveHighWater(
  options: Pick<LeaseGateOptions, "coord" | "store" | "holder">,
  scope: string,
  ttlMs: number,
): Promise<Lease | null> {
  const lease = await options.coord.acquireLease(scope, options.holder, ttlMs);
  if (!lease || !options.store) return lease;
  const highest = await options.store.fenceHighWater(scope);
  if (lease.token > highest) return lease;
  await options.coord.raiseFencingToken(scope, highest);
  await options.coord.releaseLease(lease);
  return options.coord.acquireLease(scope, options.holder, ttlMs);
}
