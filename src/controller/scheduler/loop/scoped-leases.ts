import type { Coordination, Lease } from "../../../coord/port.ts";
import type { DurableStore, Fence } from "../../../store/port.ts";
import { acquireAboveHighWater } from "../../lease-gate.ts";

/**
 * The leases one loop holds across ticks (`group:<name>`, `node-drain:<id>`). A held lease is renewed in
 * place, keeping its fencing token; a fresh one is taken above the store's fence high-water mark so its
 * token is never refused as stale after a coordination restart. The coordination port passed in is the
 * instrumented one, so acquisitions, renewals and contentions are counted without help from here.
 */
export class ScopedLeases {
  private readonly held = new Map<string, Lease>();

  constructor(
    private readonly deps: { coord: Coordination; store: DurableStore; holder: string },
    private readonly ttlMs: number,
  ) {}

  /** Takes or renews the scope's lease; null when another controller holds it. */
  async hold(scope: string): Promise<Lease | null> {
    const current = this.held.get(scope);
    if (current !== undefined) {
      if (await this.deps.coord.renewLease(current, this.ttlMs)) return current;
      // Expired or taken over since the last tick: fall through and try for a fresh one.
      this.held.delete(scope);
    }
    const lease = await acquireAboveHighWater(this.deps, scope, this.ttlMs);
    if (lease !== null) this.held.set(scope, lease);
    return lease;
  }

  /** The last-moment check before a side effect: still ours, same token. */
  async isCurrent(lease: Lease): Promise<boolean> {
    const current = await this.deps.coord.isLeaseCurrent(lease);
    if (!current && this.held.get(lease.scope) === lease) this.held.delete(lease.scope);
    return current;
  }

  scopes(): string[] {
    return [...this.held.keys()];
  }

  async release(scope: string): Promise<void> {
    const lease = this.held.get(scope);
    if (lease === undefined) return;
    this.held.delete(scope);
    // release is a courtesy: an unreleased lease expires after its TTL
    await this.deps.coord.releaseLease(lease).catch(() => false);
  }

  /** On shutdown, so a survivor takes over at its next tick instead of after the TTL. */
  async releaseAll(): Promise<void> {
    await Promise.all(this.scopes().map((scope) => this.release(scope)));
  }
}

export function fenceOf(lease: Lease): Fence {
  return { scope: lease.scope, token: lease.token };
}
