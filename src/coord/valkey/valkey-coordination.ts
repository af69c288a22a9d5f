import { Redis, type RedisOptions } from "ioredis";
import { systemClock } from "../../core/clock.ts";
import { AppError } from "../../core/errors.ts";
import { guardOutages, OutageBreaker } from "../../core/outage-guard.ts";
import { redactUri } from "../../log/redact.ts";
import { CoordKeys, checkHolder, DEFAULT_KEY_PREFIX, leaseValue } from "../keys.ts";
import type {
  Coordination,
  CoordinationState,
  Lease,
  LeaseInfo,
  LoginFailure,
  LoginLockPolicy,
  RateLimitResult,
  ReplayWindow,
  RevocationKind,
  Snapshot,
  SnapshotFamily,
  Unsubscribe,
} from "../port.ts";
import {
  ACQUIRE_LEASE,
  APPEND_EVENT,
  DELETE_SNAPSHOT,
  LOGIN_FAILURE,
  PRUNE_SNAPSHOT_INDEX,
  PUT_SNAPSHOT,
  RAISE_TOKEN,
  RATE_LIMIT_HIT,
  RELEASE_LEASE,
  RENEW_LEASE,
  SWAP_SNAPSHOT,
} from "./scripts.ts";

/** ids per MGET when listing a snapshot family */
const SNAPSHOT_BATCH = 500;

export interface ValkeyOptions {
  uri: string;
  connectTimeoutMs?: number;
  keyPrefix?: string;
  now?: () => number;
}

interface Scripted {
  acquireLease(lease: string, token: string, holder: string, ttlMs: number): Promise<[number, number]>;
  renewLease(lease: string, expected: string, ttlMs: number): Promise<number>;
  releaseLease(lease: string, expected: string): Promise<number>;
  loginFailure(
    fail: string,
    lock: string,
    max: number,
    windowMs: number,
    lockMs: number,
    now: number,
  ): Promise<[number, number]>;
  rateLimitHit(key: string, windowMs: number): Promise<[number, number]>;
  appendEvent(seq: string, stream: string, payload: string, maxLength: number): Promise<number>;
  raiseToken(key: string, floor: number): Promise<number>;
  putSnapshot(key: string, index: string, id: string, value: string, ttlMs: string): Promise<number>;
  deleteSnapshot(key: string, index: string, id: string): Promise<number>;
  swapSnapshot(
    key: string,
    index: string,
    id: string,
    hasExpected: string,
    expected: string,
    hasNext: string,
    next: string,
  ): Promise<number>;
  pruneSnapshotIndex(key: string, index: string, id: string): Promise<number>;
}

/**
 * Valkey/Redis adapter over ioredis. Commands fail fast while the server is away (no offline
 * queue) so callers can fail closed instead of hanging on a dead connection.
 */
/**
 * ioredis errors that mean the server cannot be reached right now: the offline queue is off and
 * commands have a timeout, so each of these arrives fast instead of a hang.
 */
export function isRedisOutage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === "MaxRetriesPerRequestError") return true;
  return /Connection is closed|Stream isn't writeable|Command timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|getaddrinfo/i.test(
    err.message,
  );
}

export class ValkeyCoordination implements Coordination {
  readonly kind = "valkey" as const;
  readonly location: string;
  private readonly keys: CoordKeys;
  private subscriber: Redis | undefined;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();

  private constructor(
    private readonly redis: Redis & Scripted,
    private readonly options: ValkeyOptions,
  ) {
    this.location = redactUri(options.uri);
    this.keys = new CoordKeys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
  }

  private static client(options: ValkeyOptions): Redis {
    const timeout = options.connectTimeoutMs ?? 5000;
    const redisOptions: RedisOptions = {
      lazyConnect: true,
      connectTimeout: timeout,
      commandTimeout: timeout,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      // Capped at a second: every controller's leases, rate limits and revocations wait on the
      // reconnect after Redis comes back, and one connection attempt a second costs nothing.
      retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 1000),
    };
    return new Redis(options.uri, redisOptions);
  }

  static async connect(options: ValkeyOptions): Promise<ValkeyCoordination> {
    const redis = ValkeyCoordination.client(options);
    redis.on("error", () => {
      // Connection errors surface on the commands that fail; without a listener ioredis would
      // print every reconnect attempt to stderr.
    });
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      redis.disconnect();
      throw new AppError(
        "COORDINATION_UNAVAILABLE",
        `cannot reach Valkey/Redis at ${redactUri(options.uri)}: ${(err as Error).message}`,
        { uri: redactUri(options.uri) },
        { cause: err },
      );
    }
    redis.defineCommand("acquireLease", { numberOfKeys: 2, lua: ACQUIRE_LEASE });
    redis.defineCommand("renewLease", { numberOfKeys: 1, lua: RENEW_LEASE });
    redis.defineCommand("releaseLease", { numberOfKeys: 1, lua: RELEASE_LEASE });
    redis.defineCommand("loginFailure", { numberOfKeys: 2, lua: LOGIN_FAILURE });
    redis.defineCommand("rateLimitHit", { numberOfKeys: 1, lua: RATE_LIMIT_HIT });
    redis.defineCommand("appendEvent", { numberOfKeys: 2, lua: APPEND_EVENT });
    redis.defineCommand("raiseToken", { numberOfKeys: 1, lua: RAISE_TOKEN });
    redis.defineCommand("putSnapshot", { numberOfKeys: 2, lua: PUT_SNAPSHOT });
    redis.defineCommand("deleteSnapshot", { numberOfKeys: 2, lua: DELETE_SNAPSHOT });
    redis.defineCommand("swapSnapshot", { numberOfKeys: 2, lua: SWAP_SNAPSHOT });
    redis.defineCommand("pruneSnapshotIndex", { numberOfKeys: 2, lua: PRUNE_SNAPSHOT_INDEX });
    const coordination = new ValkeyCoordination(redis as Redis & Scripted, options);
    return guardOutages(
      coordination,
      "COORDINATION_UNAVAILABLE",
      `Valkey/Redis at ${coordination.location}`,
      isRedisOutage,
      { breaker: new OutageBreaker() },
    );
  }

  private now(): number {
    return (this.options.now ?? systemClock.now)();
  }

  async acquireLease(scope: string, holder: string, ttlMs: number): Promise<Lease | null> {
    checkHolder(holder);
    const [acquired, token] = await this.redis.acquireLease(
      this.keys.lease(scope),
      this.keys.leaseToken(scope),
      holder,
      Math.max(1, Math.ceil(ttlMs)),
    );
    return acquired === 1 ? { scope, holder, token: Number(token) } : null;
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    const ok = await this.redis.renewLease(
      this.keys.lease(lease.scope),
      leaseValue(lease.holder, lease.token),
      Math.ceil(ttlMs),
    );
    return ok === 1;
  }

  async releaseLease(lease: Lease): Promise<boolean> {
    return (
      (await this.redis.releaseLease(this.keys.lease(lease.scope), leaseValue(lease.holder, lease.token))) ===
      1
    );
  }

  async isLeaseCurrent(lease: Lease): Promise<boolean> {
    return (await this.redis.get(this.keys.lease(lease.scope))) === leaseValue(lease.holder, lease.token);
  }

  async listLeases(): Promise<LeaseInfo[]> {
    const out: LeaseInfo[] = [];
    const prefix = this.keys.lease("");
    let cursor = "0";
    // SCAN is bounded per call; the loop ends when the cursor wraps to 0.
    do {
      const [next, batch] = await this.redis.scan(cursor, "MATCH", this.keys.leasePattern(), "COUNT", 500);
      cursor = next;
      for (const key of batch) {
        const [value, ttl] = await Promise.all([this.redis.get(key), this.redis.pttl(key)]);
        if (!value || ttl < 0) continue;
        const sep = value.lastIndexOf("|");
        out.push({
          scope: key.slice(prefix.length),
          holder: value.slice(0, sep),
          token: Number(value.slice(sep + 1)),
          ttlMs: ttl,
        });
      }
    } while (cursor !== "0");
    return out.sort((a, b) => a.scope.localeCompare(b.scope));
  }

  /** Every key matching the glob, SCAN-paged so a large keyspace never blocks the server. */
  private async scanKeys(pattern: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await this.redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    return keys;
  }

  async exportState(): Promise<CoordinationState> {
    const tokenPrefix = this.keys.leaseToken("");
    const fencingTokens: CoordinationState["fencingTokens"] = [];
    for (const key of await this.scanKeys(`${tokenPrefix}*`)) {
      const value = await this.redis.get(key);
      if (value !== null) fencingTokens.push({ scope: key.slice(tokenPrefix.length), token: Number(value) });
    }
    const revocations: CoordinationState["revocations"] = [];
    const kinds: RevocationKind[] = ["jwt", "nodecert-serial", "nodecert-cn"];
    for (const kind of kinds) {
      const prefix = this.keys.revoked(kind, "");
      for (const key of await this.scanKeys(`${prefix}*`)) {
        const ttl = await this.redis.pttl(key);
        if (ttl > 0) revocations.push({ kind, id: key.slice(prefix.length), ttlMs: ttl });
      }
    }
    const eventSequence = Number((await this.redis.get(this.keys.sseSequence())) ?? 0);
    fencingTokens.sort((a, b) => a.scope.localeCompare(b.scope));
    return { fencingTokens, revocations, eventSequence };
  }

  async importState(state: CoordinationState): Promise<void> {
    for (const t of state.fencingTokens) await this.raiseFencingToken(t.scope, t.token);
    for (const r of state.revocations) if (r.ttlMs > 0) await this.revoke(r.kind, r.id, r.ttlMs);
    await this.redis.raiseToken(this.keys.sseSequence(), Math.floor(state.eventSequence));
  }

  async fencingToken(scope: string): Promise<number> {
    return Number((await this.redis.get(this.keys.leaseToken(scope))) ?? 0);
  }

  async raiseFencingToken(scope: string, floor: number): Promise<void> {
    await this.redis.raiseToken(this.keys.leaseToken(scope), Math.floor(floor));
  }

  async revoke(kind: RevocationKind, id: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.revoked(kind, id), "1", "PX", Math.max(1, Math.ceil(ttlMs)));
  }

  async isRevoked(kind: RevocationKind, id: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.revoked(kind, id))) === 1;
  }

  async recordLoginFailure(username: string, policy: LoginLockPolicy): Promise<LoginFailure> {
    const [failures, lockedUntil] = await this.redis.loginFailure(
      this.keys.loginFail(username),
      this.keys.loginLock(username),
      policy.maxAttempts,
      policy.windowMs,
      policy.lockMs,
      this.now(),
    );
    return { failures: Number(failures), lockedUntil: Number(lockedUntil) < 0 ? null : Number(lockedUntil) };
  }

  async loginLockedUntil(username: string): Promise<number | null> {
    const value = await this.redis.get(this.keys.loginLock(username));
    return value === null ? null : Number(value);
  }

  async clearLoginFailures(username: string): Promise<void> {
    await this.redis.del(this.keys.loginFail(username), this.keys.loginLock(username));
  }

  async hitRateLimit(bucket: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const [count, ttl] = await this.redis.rateLimitHit(this.keys.rateLimit(bucket, key), windowMs);
    return { allowed: Number(count) <= limit, count: Number(count), retryAfterMs: Math.max(0, Number(ttl)) };
  }

  async appendEvent(payload: string, maxLength: number): Promise<number> {
    return Number(
      await this.redis.appendEvent(this.keys.sseSequence(), this.keys.sseReplay(), payload, maxLength),
    );
  }

  async eventsAfter(seq: number, limit: number): Promise<ReplayWindow> {
    const stream = this.keys.sseReplay();
    const [entries, oldest, latest] = await Promise.all([
      limit > 0
        ? this.redis.xrange(stream, `(${Math.max(0, Math.floor(seq))}-0`, "+", "COUNT", limit)
        : Promise.resolve([]),
      this.redis.xrange(stream, "-", "+", "COUNT", 1),
      this.redis.get(this.keys.sseSequence()),
    ]);
    const events = entries.map(([id, fields]) => ({
      seq: Number(id.split("-")[0]),
      payload: fields[1] ?? "",
    }));
    const oldestId = oldest[0]?.[0];
    return {
      events,
      oldestSeq: oldestId ? Number(oldestId.split("-")[0]) : 0,
      latestSeq: Number(latest ?? 0),
    };
  }

  async putTicket(ticket: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.sseTicket(ticket), value, "PX", Math.max(1, Math.ceil(ttlMs)));
  }

  async takeTicket(ticket: string): Promise<string | null> {
    return this.redis.getdel(this.keys.sseTicket(ticket));
  }

  async getSnapshot(family: SnapshotFamily, id: string): Promise<string | null> {
    return this.redis.get(this.keys.snapshot(family, id));
  }

  async listSnapshots(family: SnapshotFamily): Promise<Snapshot[]> {
    const index = this.keys.snapshotIndex(family);
    const ids = await this.redis.smembers(index);
    const out: Snapshot[] = [];
    for (let i = 0; i < ids.length; i += SNAPSHOT_BATCH) {
      const batch = ids.slice(i, i + SNAPSHOT_BATCH);
      const values = await this.redis.mget(...batch.map((id) => this.keys.snapshot(family, id)));
      for (const [j, id] of batch.entries()) {
        const value = values[j];
        if (value != null) out.push({ id, value });
        // Expired by TTL: the index entry is all that is left of it.
        else await this.redis.pruneSnapshotIndex(this.keys.snapshot(family, id), index, id);
      }
    }
    return out;
  }

  async putSnapshot(family: SnapshotFamily, id: string, value: string, ttlMs?: number): Promise<void> {
    await this.redis.putSnapshot(
      this.keys.snapshot(family, id),
      this.keys.snapshotIndex(family),
      id,
      value,
      ttlMs === undefined ? "" : String(Math.max(1, Math.ceil(ttlMs))),
    );
  }

  async deleteSnapshot(family: SnapshotFamily, id: string): Promise<void> {
    await this.redis.deleteSnapshot(this.keys.snapshot(family, id), this.keys.snapshotIndex(family), id);
  }

  async swapSnapshot(
    family: SnapshotFamily,
    id: string,
    expected: string | null,
    next: string | null,
  ): Promise<boolean> {
    const swapped = await this.redis.swapSnapshot(
      this.keys.snapshot(family, id),
      this.keys.snapshotIndex(family),
      id,
      expected === null ? "0" : "1",
      expected ?? "",
      next === null ? "0" : "1",
      next ?? "",
    );
    return Number(swapped) === 1;
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.redis.publish(this.keys.channel(channel), message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    const key = this.keys.channel(channel);
    if (!this.subscriber) {
      // A connection in subscriber mode can do nothing else, so pub/sub gets its own.
      const sub = ValkeyCoordination.client({ ...this.options });
      sub.on("error", () => {});
      sub.on("message", (ch: string, message: string) => {
        for (const h of this.handlers.get(ch) ?? []) h(message);
      });
      await sub.connect();
      this.subscriber = sub;
    }
    let set = this.handlers.get(key);
    if (!set) {
      set = new Set();
      this.handlers.set(key, set);
      await this.subscriber.subscribe(key);
    }
    set.add(handler);
    return async () => {
      const current = this.handlers.get(key);
      current?.delete(handler);
      if (current && current.size === 0) {
        this.handlers.delete(key);
        // connection gone: there is nothing left to unsubscribe from
        await this.subscriber?.unsubscribe(key).catch(() => {});
      }
    };
  }

  async ping(): Promise<void> {
    try {
      await this.redis.ping();
    } catch (err) {
      throw new AppError(
        "COORDINATION_UNAVAILABLE",
        `Valkey/Redis at ${this.location} is unreachable`,
        undefined,
        { cause: err },
      );
    }
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.redis.disconnect();
  }
}
