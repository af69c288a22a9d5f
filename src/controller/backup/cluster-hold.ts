import { createHash, randomUUID } from "node:crypto";
import type { Coordination } from "../../coord/port.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import { AppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { WriteHold } from "./write-hold.ts";

/** What the backup and restore paths ask of a write gate: hold (wait) or close (refuse) mutations. */
export interface HoldGate {
  hold(drainMs?: number): Promise<() => void>;
  close(reason: string, drainMs?: number): Promise<() => void>;
  /** after a restore: re-reads whether the store is whole (its journal gone) */
  settle?(): Promise<void>;
}

/** The flag one controller raises for the whole cluster while it takes a cut or restores. */
interface HoldFlag {
  id: string;
  kind: "hold" | "close";
  holder: string;
  reason: string;
}

const FAMILY = "write-hold";
/** Time bounds: a dead holder's flag lapses after FLAG_TTL, a dead member drops out after MEMBER_TTL. */
const FLAG_TTL_MS = 15_000;
const MEMBER_TTL_MS = 10_000;

export interface ClusterHoldOptions {
  coord: Coordination;
  /** this controller's own gate, the one its store mutations pass */
  local: WriteHold;
  self: string;
  /**
   * Names the cluster: the durable store's location. Controllers that share one Valkey but not
   * one store never hold each other.
   */
  cluster: string;
  /** the journal of a restore that has not finished, or null (read from the durable store) */
  unfinishedRestore: () => Promise<{ bundle: string; phase: string } | null>;
  log: Logger;
  clock?: Clock;
  pollMs?: number;
  flagTtlMs?: number;
  memberTtlMs?: number;
}

export function interruptedReason(journal: { bundle: string; phase: string }): string {
  return (
    `a restore of backup ${journal.bundle} stopped during its ${journal.phase} step and the store is ` +
    `only partly restored; run it again (POST /api/v1/restore or prexor backup restore) before using it`
  );
}

/**
 * The backup write hold, cluster-wide. Every controller is a *member* (a TTL entry in the
 * coordination store) and watches one flag (pub/sub for promptness, a poll as the safety net).
 * The controller taking a cut raises the flag, holds its own gate, and waits until every live
 * member has acknowledged the flag's id; a member acknowledges only after holding its own gate and
 * draining the mutations it had in flight, so once all have acknowledged, no write anywhere is
 * running or can start, and the store read then is exactly the state at the cut.
 *
 * Bounded and fail-safe: the holder renews the flag while it works; if it dies, the flag lapses
 * within its TTL and members let writes through again. A member that does not acknowledge in time
 * makes the backup fail (no inexact cut is ever published). A restore raises a `close` flag
 * (members refuse mutations instead of holding them); if the restorer dies, members find the
 * restore journal still in the store and stay closed, reads included, until a restore finishes.
 */
export class ClusterWriteHold implements HoldGate {
  private readonly pollMs: number;
  private readonly flagTtlMs: number;
  private readonly memberTtlMs: number;
  private readonly prefix: string;
  private following: { id: string; kind: HoldFlag["kind"]; release: () => void; seenAt: number } | null =
    null;
  private mine: string | null = null;
  private syncing: Promise<void> | null = null;
  private timers: unknown[] = [];
  private readonly clock: Clock;
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(private readonly o: ClusterHoldOptions) {
    this.clock = o.clock ?? systemClock;
    this.pollMs = o.pollMs ?? 500;
    this.flagTtlMs = o.flagTtlMs ?? FLAG_TTL_MS;
    this.memberTtlMs = o.memberTtlMs ?? MEMBER_TTL_MS;
    this.prefix = createHash("sha256").update(o.cluster).digest("hex").slice(0, 16);
  }

  private get flagId() {
    return `${this.prefix}:flag`;
  }
  private memberId(id: string) {
    return `${this.prefix}:member:${id}`;
  }
  private ackId(id: string) {
    return `${this.prefix}:ack:${id}`;
  }
  private get channel() {
    return `write-hold:${this.prefix}`;
  }

  /** Joins the cluster's members (before this controller serves a write) and starts watching. */
  async start(): Promise<void> {
    const join = () =>
      this.o.coord
        .putSnapshot(FAMILY, this.memberId(this.o.self), String(this.clock.now()), this.memberTtlMs)
        .catch((err) => this.o.log.debug({ err }, "could not renew this controller's write-hold membership"));
    await join();
    this.timers.push(this.clock.setInterval(() => void join(), this.memberTtlMs / 3, { unref: true }));
    this.timers.push(this.clock.setInterval(() => void this.sync(), this.pollMs, { unref: true }));
    // coordination down: no push notices; the poll interval above still syncs the hold
    this.unsubscribe = await this.o.coord.subscribe(this.channel, () => void this.sync()).catch(() => null);
    await this.sync();
  }

  async stop(): Promise<void> {
    for (const t of this.timers.splice(0)) this.clock.clearInterval(t);
    // stopping: whatever cannot be removed now expires with its TTL
    await this.unsubscribe?.().catch(() => undefined);
    await this.o.coord.deleteSnapshot(FAMILY, this.memberId(this.o.self)).catch(() => undefined);
    await this.o.coord.deleteSnapshot(FAMILY, this.ackId(this.o.self)).catch(() => undefined);
    this.following?.release();
    this.following = null;
  }

  hold(drainMs = 10_000): Promise<() => void> {
    return this.raise("hold", "", drainMs);
  }

  close(reason: string, drainMs = 10_000): Promise<() => void> {
    return this.raise("close", reason, drainMs);
  }

  /** One watcher pass at a time; overlapping triggers (poll + message) share it. */
  sync(): Promise<void> {
    if (!this.syncing) {
      this.syncing = this.syncOnce()
        .catch((err) => this.o.log.warn({ err }, "write-hold watcher pass failed"))
        .finally(() => {
          this.syncing = null;
        });
    }
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    let raw: string | null;
    try {
      raw = await this.o.coord.getSnapshot(FAMILY, this.flagId);
    } catch {
      // Coordination away: keep whatever state we are in (writes fail closed on their leases
      // anyway), except that a hold is bounded: past the flag's TTL it would have lapsed by now.
      const was = this.following;
      if (was?.kind === "hold" && this.clock.now() - was.seenAt >= this.flagTtlMs) {
        this.following = null;
        this.o.log.warn(
          { hold: was.id },
          "coordination unreachable for a whole hold TTL; letting writes through",
        );
        was.release();
      }
      return;
    }
    const flag = parseFlag(raw);
    if (flag && flag.holder !== this.o.self) {
      if (this.following?.id !== flag.id) {
        this.following?.release();
        this.following = null;
        const release =
          flag.kind === "hold"
            ? await this.o.local.hold(this.flagTtlMs)
            : await this.o.local.close(flag.reason || "a restore is running; retry when it has finished");
        this.following = { id: flag.id, kind: flag.kind, release, seenAt: this.clock.now() };
      }
      this.following.seenAt = this.clock.now();
      await this.o.coord.putSnapshot(FAMILY, this.ackId(this.o.self), flag.id, this.memberTtlMs);
      return;
    }
    if (this.following) {
      const was = this.following;
      this.following = null;
      // A restore that ended without clearing its journal (its controller died): stay shut.
      if (was.kind === "close") await this.checkJournal();
      was.release();
      return;
    }
    if (this.o.local.restoreReason !== null && this.mine === null) await this.checkJournal();
  }

  settle(): Promise<void> {
    return this.checkJournal();
  }

  /** Marks the gate interrupted while a restore journal is in the store, clears it once it is gone. */
  async checkJournal(): Promise<void> {
    const journal = await this.o.unfinishedRestore();
    if (journal) this.o.local.markInterrupted(interruptedReason(journal));
    else this.o.local.clearInterrupted();
  }

  private async raise(kind: HoldFlag["kind"], reason: string, drainMs: number): Promise<() => void> {
    if (this.mine !== null) throw new AppError("CONFLICT", "a backup or restore is already running");
    const flag: HoldFlag = { id: randomUUID(), kind, holder: this.o.self, reason };
    const value = JSON.stringify(flag);
    const { coord } = this.o;
    await coord.putSnapshot(FAMILY, this.flagId, value, this.flagTtlMs);
    this.mine = flag.id;
    // When the flag was last known to be in place; a gap of a whole TTL means it may have lapsed,
    // members may have let writes through, and the cut can no longer be trusted.
    let confirmedAt = this.clock.now();
    let lapsed = false;
    const confirm = () => {
      const now = this.clock.now();
      if (now - confirmedAt >= this.flagTtlMs) lapsed = true;
      confirmedAt = now;
    };
    let renewing: Promise<unknown> = Promise.resolve();
    const renew = this.clock.setInterval(() => {
      // a missed renewal is retried on the next interval; the flag lives for several of them
      renewing = coord
        .putSnapshot(FAMILY, this.flagId, value, this.flagTtlMs)
        .then(confirm)
        .catch(() => undefined);
    }, this.flagTtlMs / 3);
    // stop() ends the renewals too (the flag then lapses as if this process had died)
    this.timers.push(renew);
    let releaseLocal: (() => void) | null = null;
    const lift = async () => {
      this.clock.clearInterval(renew);
      // A renewal still on the wire would bring the flag back after the delete below.
      await renewing;
      this.mine = null;
      // best effort: an undeleted flag lapses with its TTL, and peers poll for the release anyway
      await coord.swapSnapshot(FAMILY, this.flagId, value, null).catch(() => false);
      await coord.publish(this.channel, "released").catch(() => undefined);
      releaseLocal?.();
    };
    try {
      // peers also find the flag by polling; the notice only makes them see it sooner
      await coord.publish(this.channel, flag.id).catch(() => undefined);
      releaseLocal =
        kind === "hold" ? await this.o.local.hold(drainMs) : await this.o.local.close(reason, drainMs);
      await this.waitForAcks(flag.id, drainMs);
    } catch (err) {
      await lift();
      throw err;
    }
    let lifted = false;
    return () => {
      if (lifted) return;
      lifted = true;
      const gap = this.clock.now() - confirmedAt >= this.flagTtlMs;
      void lift();
      // A backup's cut is only exact if the hold never lapsed: say so instead of publishing it.
      if (kind === "hold" && (lapsed || gap)) {
        throw new AppError(
          "UNAVAILABLE",
          "the cluster write hold could not be renewed (coordination unreachable) and may have lapsed; no cut was taken",
        );
      }
    };
  }

  /** Until every live member other than this one has acknowledged `id`, bounded by `drainMs`. */
  private async waitForAcks(id: string, drainMs: number): Promise<void> {
    const deadline = this.clock.now() + drainMs;
    const memberPrefix = `${this.prefix}:member:`;
    const ackPrefix = `${this.prefix}:ack:`;
    for (;;) {
      const entries = await this.o.coord.listSnapshots(FAMILY);
      const acked = new Set(
        entries
          .filter((e) => e.id.startsWith(ackPrefix) && e.value === id)
          .map((e) => e.id.slice(ackPrefix.length)),
      );
      const missing = entries
        .filter((e) => e.id.startsWith(memberPrefix))
        .map((e) => e.id.slice(memberPrefix.length))
        .filter((m) => m !== this.o.self && !acked.has(m));
      if (missing.length === 0) return;
      if (this.clock.now() >= deadline) {
        throw new AppError(
          "UNAVAILABLE",
          `controllers ${missing.join(", ")} did not hold their writes within ${drainMs} ms; no cut was taken`,
          { controllers: missing },
        );
      }
      await this.clock.sleep(Math.min(25, this.pollMs));
    }
  }
}

function parseFlag(raw: string | null): HoldFlag | null {
  if (raw === null) return null;
  try {
    const f = JSON.parse(raw) as HoldFlag;
    return typeof f.id === "string" && (f.kind === "hold" || f.kind === "close") ? f : null;
  } catch {
    // not a flag of ours: treated as no flag
    return null;
  }
}
