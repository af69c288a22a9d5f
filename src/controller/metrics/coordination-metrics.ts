import type { Coordination, Lease } from "../../coord/port.ts";
import type { Metrics } from "./metrics.ts";

/**
 * The coordination port with lease and revocation outcomes counted. Wrapping the port (rather
 * than asking every lease user to count) means the scheduler, the lease gate and the pruners are
 * all measured the same way, including ones written later.
 *
 * `acquireLease` also renews when the caller already holds the lease; the token tells them
 * apart: a new acquisition always gets a fresh fencing token, a renewal keeps it.
 */
export function instrumentCoordination(coord: Coordination, metrics: Metrics): Coordination {
  if (!metrics.enabled) return coord;
  const held = new Map<string, number>();
  const key = (scope: string, holder: string) => `${scope}\u0000${holder}`;
  const overrides: Partial<Coordination> = {
    async acquireLease(scope: string, holder: string, ttlMs: number): Promise<Lease | null> {
      const lease = await coord.acquireLease(scope, holder, ttlMs);
      if (!lease) {
        held.delete(key(scope, holder));
        metrics.leaseContended();
        return lease;
      }
      if (held.get(key(scope, holder)) === lease.token) metrics.leaseRenewed();
      else metrics.leaseAcquired();
      held.set(key(scope, holder), lease.token);
      return lease;
    },
    async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
      const renewed = await coord.renewLease(lease, ttlMs);
      if (renewed) metrics.leaseRenewed();
      else held.delete(key(lease.scope, lease.holder));
      return renewed;
    },
    async releaseLease(lease: Lease): Promise<boolean> {
      held.delete(key(lease.scope, lease.holder));
      return coord.releaseLease(lease);
    },
    async revoke(kind, id, ttlMs): Promise<void> {
      await coord.revoke(kind, id, ttlMs);
      if (kind === "jwt") metrics.jwtRevoked();
    },
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(coord, {
    get(target, prop, receiver) {
      if (prop in overrides) return overrides[prop as keyof Coordination];
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      // Bound once per method, not per call: this proxy sits on every request's rate-limit check.
      let fn = bound.get(prop);
      if (!fn) {
        fn = value.bind(target);
        bound.set(prop, fn);
      }
      return fn;
    },
  });
}
