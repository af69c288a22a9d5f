/**
 * The coordination port: short-lived, cluster-shared state. In production it is Valkey/Redis and
 * shared by every controller; in the development profile it is process memory. Every adapter
 * passes tests/contract/coord.contract.ts.
 */
export interface Lease {
  scope: string;
  holder: string;
  /** fencing token: strictly increasing per scope across all acquisitions, never reused */
  token: number;
}

export interface LeaseInfo extends Lease {
  ttlMs: number;
}

export type RevocationKind = "jwt" | "nodecert-serial" | "nodecert-cn";

export interface LoginLockPolicy {
  maxAttempts: number;
  windowMs: number;
  lockMs: number;
}

export interface LoginFailure {
  failures: number;
  /** epoch ms; set when this failure tipped the account into a lock */
  lockedUntil: number | null;
}

export interface RateLimitResult {
  allowed: boolean;
  count: number;
  /** time until the window resets */
  retryAfterMs: number;
}

export interface ReplayEvent {
  seq: number;
  payload: string;
}

export interface ReplayWindow {
  events: ReplayEvent[];
  /** oldest sequence still buffered (0 when empty); a reader behind it must resync */
  oldestSeq: number;
  latestSeq: number;
}

/** Coordination state a restore must carry over; everything else is rebuilt by the live cluster. */
export interface CoordinationState {
  /** last token handed out per lease scope */
  fencingTokens: Array<{ scope: string; token: number }>;
  /** live revocations and how long each still has to run */
  revocations: Array<{ kind: RevocationKind; id: string; ttlMs: number }>;
  /** the SSE event sequence, so resuming clients never see a number reused */
  eventSequence: number;
}

export type Unsubscribe = () => Promise<void>;

/**
 * Families of live runtime snapshots (JSON text keyed `<family>:<id>`): state every controller
 * must see but nobody needs after a full restart, so it is kept out of the durable store.
 */
export type SnapshotFamily = "player" | "instance-metrics" | "controller" | "write-hold";

export interface Snapshot {
  id: string;
  value: string;
}

export interface Coordination {
  readonly kind: "memory" | "valkey";
  readonly location: string;

  /** Takes the lease, or renews it (same token) when `holder` already has it; null when another holds it. */
  acquireLease(scope: string, holder: string, ttlMs: number): Promise<Lease | null>;
  /** Extends the lease only if it is still exactly this one (holder and token). */
  renewLease(lease: Lease, ttlMs: number): Promise<boolean>;
  /** Deletes the lease only if it is still exactly this one. */
  releaseLease(lease: Lease): Promise<boolean>;
  isLeaseCurrent(lease: Lease): Promise<boolean>;
  listLeases(): Promise<LeaseInfo[]>;
  /** Last fencing token handed out for a scope (0 when none). */
  fencingToken(scope: string): Promise<number>;
  /**
   * Raises the scope's token counter to at least `floor` (never lowers it). Used when the durable
   * store has accepted higher tokens than this store remembers (in-memory restart, wiped Valkey).
   */
  raiseFencingToken(scope: string, floor: number): Promise<void>;

  revoke(kind: RevocationKind, id: string, ttlMs: number): Promise<void>;
  isRevoked(kind: RevocationKind, id: string): Promise<boolean>;

  recordLoginFailure(username: string, policy: LoginLockPolicy): Promise<LoginFailure>;
  /** epoch ms the lock ends, or null when not locked */
  loginLockedUntil(username: string): Promise<number | null>;
  /** Forgets the failures and lifts any lock (a good login, or `prexor admin unlock`). */
  clearLoginFailures(username: string): Promise<void>;

  /** Fixed-window counter: counts this hit and says whether it is within `limit`. */
  hitRateLimit(bucket: string, key: string, limit: number, windowMs: number): Promise<RateLimitResult>;

  /** Appends to the ordered replay buffer (trimmed to `maxLength`) and returns the event's sequence. */
  appendEvent(payload: string, maxLength: number): Promise<number>;
  eventsAfter(seq: number, limit: number): Promise<ReplayWindow>;

  /** Single-use values with a TTL (SSE tickets). */
  putTicket(ticket: string, value: string, ttlMs: number): Promise<void>;
  takeTicket(ticket: string): Promise<string | null>;

  getSnapshot(family: SnapshotFamily, id: string): Promise<string | null>;
  /** Every live snapshot of the family, in no particular order. */
  listSnapshots(family: SnapshotFamily): Promise<Snapshot[]>;
  /** Creates or replaces; with `ttlMs` the snapshot disappears unless written again in time. */
  putSnapshot(family: SnapshotFamily, id: string, value: string, ttlMs?: number): Promise<void>;
  deleteSnapshot(family: SnapshotFamily, id: string): Promise<void>;
  /**
   * Compare-and-set: writes `next` (null deletes) only while the stored value is exactly
   * `expected` (null: absent); returns whether it did. The result has no TTL.
   */
  swapSnapshot(
    family: SnapshotFamily,
    id: string,
    expected: string | null,
    next: string | null,
  ): Promise<boolean>;

  exportState(): Promise<CoordinationState>;
  /**
   * Restore only: raises fencing tokens and the event sequence to at least the given values (never
   * lowers them) and re-creates the revocations with their remaining TTL.
   */
  importState(state: CoordinationState): Promise<void>;

  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe>;

  ping(): Promise<void>;
  close(): Promise<void>;
}
