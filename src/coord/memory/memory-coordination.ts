import { EventEmitter } from "node:events";
import { systemClock } from "../../core/clock.ts";
import { checkHolder } from "../keys.ts";
import type {
  Coordination,
  CoordinationState,
  Lease,
  LeaseInfo,
  LoginFailure,
  LoginLockPolicy,
  RateLimitResult,
  ReplayEvent,
  ReplayWindow,
  RevocationKind,
  Snapshot,
  SnapshotFamily,
  Unsubscribe,
} from "../port.ts";

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

/**
 * In-process coordination for the development profile: one controller, nothing shared, nothing
 * survives a restart. Same semantics as the Valkey adapter, including TTLs (checked lazily on
 * read against the injected clock).
 */
export class MemoryCoordination implements Coordination {
  readonly kind = "memory" as const;
  readonly location = "process memory";
  private readonly leases = new Map<string, Expiring<Lease>>();
  private readonly tokens = new Map<string, number>();
  private readonly revoked = new Map<string, Expiring<true>>();
  private readonly loginFails = new Map<string, Expiring<number>>();
  private readonly loginLocks = new Map<string, Expiring<number>>();
  private readonly windows = new Map<string, Expiring<number>>();
  private readonly tickets = new Map<string, Expiring<string>>();
  private readonly snapshots = new Map<string, Expiring<string>>();
  private replay: ReplayEvent[] = [];
  private sequence = 0;
  private readonly bus = new EventEmitter();
  private closed = false;

  constructor(private readonly now: () => number = systemClock.now) {
    this.bus.setMaxListeners(0);
  }

  private live<T>(map: Map<string, Expiring<T>>, key: string): Expiring<T> | undefined {
    const entry = map.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  async acquireLease(scope: string, holder: string, ttlMs: number): Promise<Lease | null> {
    checkHolder(holder);
    const current = this.live(this.leases, scope);
    if (current) {
      if (current.value.holder !== holder) return null;
      current.expiresAt = this.now() + ttlMs;
      return { ...current.value };
    }
    const token = (this.tokens.get(scope) ?? 0) + 1;
    this.tokens.set(scope, token);
    const lease = { scope, holder, token };
    this.leases.set(scope, { value: lease, expiresAt: this.now() + ttlMs });
    return { ...lease };
  }

  private isExactly(lease: Lease): Expiring<Lease> | undefined {
    const current = this.live(this.leases, lease.scope);
    return current && current.value.holder === lease.holder && current.value.token === lease.token
      ? current
      : undefined;
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    const current = this.isExactly(lease);
    if (!current) return false;
    current.expiresAt = this.now() + ttlMs;
    return true;
  }

  async releaseLease(lease: Lease): Promise<boolean> {
    if (!this.isExactly(lease)) return false;
    this.leases.delete(lease.scope);
    return true;
  }

  async isLeaseCurrent(lease: Lease): Promise<boolean> {
    return this.isExactly(lease) !== undefined;
  }

  async listLeases(): Promise<LeaseInfo[]> {
    const out: LeaseInfo[] = [];
    for (const scope of [...this.leases.keys()]) {
      const entry = this.live(this.leases, scope);
      if (entry) out.push({ ...entry.value, ttlMs: entry.expiresAt - this.now() });
    }
    return out.sort((a, b) => a.scope.localeCompare(b.scope));
  }

  async fencingToken(scope: string): Promise<number> {
    return this.tokens.get(scope) ?? 0;
  }

  async raiseFencingToken(scope: string, floor: number): Promise<void> {
    if ((this.tokens.get(scope) ?? 0) < floor) this.tokens.set(scope, floor);
  }

  async revoke(kind: RevocationKind, id: string, ttlMs: number): Promise<void> {
    this.revoked.set(`${kind}:${id}`, { value: true, expiresAt: this.now() + ttlMs });
  }

  async isRevoked(kind: RevocationKind, id: string): Promise<boolean> {
    return this.live(this.revoked, `${kind}:${id}`) !== undefined;
  }

  async recordLoginFailure(username: string, policy: LoginLockPolicy): Promise<LoginFailure> {
    const entry = this.live(this.loginFails, username);
    const failures = (entry?.value ?? 0) + 1;
    if (failures >= policy.maxAttempts) {
      const lockedUntil = this.now() + policy.lockMs;
      this.loginLocks.set(username, { value: lockedUntil, expiresAt: lockedUntil });
      this.loginFails.delete(username);
      return { failures, lockedUntil };
    }
    this.loginFails.set(username, {
      value: failures,
      expiresAt: entry?.expiresAt ?? this.now() + policy.windowMs,
    });
    return { failures, lockedUntil: null };
  }

  async loginLockedUntil(username: string): Promise<number | null> {
    return this.live(this.loginLocks, username)?.value ?? null;
  }

  async clearLoginFailures(username: string): Promise<void> {
    this.loginFails.delete(username);
    this.loginLocks.delete(username);
  }

  async hitRateLimit(bucket: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const id = `${bucket}:${key}`;
    const entry = this.live(this.windows, id) ?? { value: 0, expiresAt: this.now() + windowMs };
    entry.value += 1;
    this.windows.set(id, entry);
    return {
      allowed: entry.value <= limit,
      count: entry.value,
      retryAfterMs: Math.max(0, entry.expiresAt - this.now()),
    };
  }

  async appendEvent(payload: string, maxLength: number): Promise<number> {
    this.sequence += 1;
    this.replay.push({ seq: this.sequence, payload });
    if (this.replay.length > maxLength) this.replay = this.replay.slice(this.replay.length - maxLength);
    return this.sequence;
  }

  async eventsAfter(seq: number, limit: number): Promise<ReplayWindow> {
    const events = this.replay.filter((e) => e.seq > seq).slice(0, Math.max(0, limit));
    return { events, oldestSeq: this.replay[0]?.seq ?? 0, latestSeq: this.sequence };
  }

  async putTicket(ticket: string, value: string, ttlMs: number): Promise<void> {
    this.tickets.set(ticket, { value, expiresAt: this.now() + ttlMs });
  }

  async takeTicket(ticket: string): Promise<string | null> {
    const entry = this.live(this.tickets, ticket);
    this.tickets.delete(ticket);
    return entry?.value ?? null;
  }

  async getSnapshot(family: SnapshotFamily, id: string): Promise<string | null> {
    return this.live(this.snapshots, `${family}:${id}`)?.value ?? null;
  }

  async listSnapshots(family: SnapshotFamily): Promise<Snapshot[]> {
    const prefix = `${family}:`;
    const out: Snapshot[] = [];
    for (const key of [...this.snapshots.keys()]) {
      if (!key.startsWith(prefix)) continue;
      const entry = this.live(this.snapshots, key);
      if (entry) out.push({ id: key.slice(prefix.length), value: entry.value });
    }
    return out;
  }

  async putSnapshot(family: SnapshotFamily, id: string, value: string, ttlMs?: number): Promise<void> {
    const expiresAt = ttlMs === undefined ? Number.POSITIVE_INFINITY : this.now() + ttlMs;
    this.snapshots.set(`${family}:${id}`, { value, expiresAt });
  }

  async deleteSnapshot(family: SnapshotFamily, id: string): Promise<void> {
    this.snapshots.delete(`${family}:${id}`);
  }

  async swapSnapshot(
    family: SnapshotFamily,
    id: string,
    expected: string | null,
    next: string | null,
  ): Promise<boolean> {
    const key = `${family}:${id}`;
    if ((this.live(this.snapshots, key)?.value ?? null) !== expected) return false;
    if (next === null) this.snapshots.delete(key);
    else this.snapshots.set(key, { value: next, expiresAt: Number.POSITIVE_INFINITY });
    return true;
  }

  async exportState(): Promise<CoordinationState> {
    const revocations: CoordinationState["revocations"] = [];
    for (const key of [...this.revoked.keys()]) {
      const entry = this.live(this.revoked, key);
      if (!entry) continue;
      const split = key.indexOf(":");
      revocations.push({
        kind: key.slice(0, split) as RevocationKind,
        id: key.slice(split + 1),
        ttlMs: entry.expiresAt - this.now(),
      });
    }
    return {
      fencingTokens: [...this.tokens].map(([scope, token]) => ({ scope, token })),
      revocations,
      eventSequence: this.sequence,
    };
  }

  async importState(state: CoordinationState): Promise<void> {
    for (const t of state.fencingTokens) await this.raiseFencingToken(t.scope, t.token);
    for (const r of state.revocations) if (r.ttlMs > 0) await this.revoke(r.kind, r.id, r.ttlMs);
    this.sequence = Math.max(this.sequence, state.eventSequence);
  }

  async publish(channel: string, message: string): Promise<void> {
    // Delivered on a later turn, as a network round trip would be, so publishers never re-enter subscribers.
    queueMicrotask(() => this.bus.emit(channel, message));
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    this.bus.on(channel, handler);
    return async () => {
      this.bus.off(channel, handler);
    };
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error("coordination store is closed");
  }

  async close(): Promise<void> {
    this.closed = true;
    this.bus.removeAllListeners();
  }
}
