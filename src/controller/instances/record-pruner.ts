import type { Coordination } from "../../coord/port.ts";
import { systemClock } from "../../core/clock.ts";
import type { Logger } from "../../log/logger.ts";
import type { ConsoleBuffer } from "./console-buffer.ts";
import type { InstanceService } from "./instance-service.ts";

const LEASE_SCOPE = "record-pruner";
/** Crash and journey retention is in days: checking it hourly is plenty, and spares scans. */
const CRASH_PRUNE_EVERY_MS = 60 * 60 * 1000;
/** Ended instance records removed per pruning round at most. */
const PRUNE_BATCH = 1000;

/**
 * Spec retention: ended instances leave live state after 60 s (STOPPED) / 300 s (CRASHED); crashes
 * and player journey steps after 30 days.
 */
export const RETENTION = {
  stoppedMs: 60_000,
  crashedMs: 300_000,
  crashDays: 30,
  journeyDays: 30,
} as const;

export interface PruneCounts {
  instances: number;
  crashes: number;
  journey: number;
  consoles: number;
}

/** A kind of record kept for a number of days, pruned by the service that owns it. */
export interface Retained {
  pruneBefore(cutoffMs: number): Promise<number>;
}

/**
 * Retention without TTL indexes (the store port has none): ended instance records with their plan
 * and any start-retry intent, and crash and journey records past their retention. The store writes
 * run on one controller at a time under the `record-pruner` lease; every controller drops the
 * console lines of records that are gone, since those live in its own memory.
 */
export class RecordPruner {
  private timer: ReturnType<typeof setInterval> | null = null;
  private running = false;
  private crashesPrunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly deps: {
      /** instance records are read and removed through their service only (bounded reads) */
      instances: InstanceService;
      /** a pruned record's plan and start-retry intent (StoreInstanceLifecycle.forgetPruned) */
      plans: { forgetPruned(instanceId: string, planHash: string): Promise<void> };
      crashes: Retained;
      journey: Retained;
      coord: Coordination;
      controllerId: string;
      console: ConsoleBuffer;
      log: Logger;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return (this.deps.now ?? systemClock.now)();
  }

  async prune(): Promise<PruneCounts> {
    const counts: PruneCounts = { instances: 0, crashes: 0, journey: 0, consoles: 0 };
    const lease = await this.deps.coord.acquireLease(LEASE_SCOPE, this.deps.controllerId, 60_000);
    if (lease) {
      try {
        counts.instances = await this.pruneInstances();
        if (this.now() - this.crashesPrunedAt >= CRASH_PRUNE_EVERY_MS) {
          counts.crashes = await this.deps.crashes.pruneBefore(this.now() - RETENTION.crashDays * 86_400_000);
          counts.journey = await this.deps.journey.pruneBefore(
            this.now() - RETENTION.journeyDays * 86_400_000,
          );
          this.crashesPrunedAt = this.now();
        }
      } finally {
        // release is a courtesy: an unreleased lease expires after its TTL
        await this.deps.coord.releaseLease(lease).catch(() => false);
      }
    }
    counts.consoles = await this.forgetConsoles();
    return counts;
  }

  private async pruneInstances(): Promise<number> {
    const { instances, plans } = this.deps;
    const now = this.now();
    // Bounded per round: a backlog larger than a batch is worked off over the next rounds.
    const ended = await instances.endedBefore(
      now - RETENTION.stoppedMs,
      now - RETENTION.crashedMs,
      PRUNE_BATCH,
    );
    let removed = 0;
    for (const doc of ended) {
      // Conditional on what was read: a record re-placed under the same id since then is live again.
      if (!(await instances.pruneIfUnchanged(doc))) continue;
      removed++;
      await plans.forgetPruned(doc._id, doc.planHash);
    }
    if (removed > 0) this.deps.log.debug({ removed }, "pruned ended instance records");
    return removed;
  }

  private async forgetConsoles(): Promise<number> {
    const held = this.deps.console.instanceIds();
    if (held.length === 0) return 0;
    const known = await this.deps.instances.existingIds(held);
    let forgotten = 0;
    for (const id of held) {
      if (known.has(id)) continue;
      this.deps.console.forget(id);
      forgotten++;
    }
    return forgotten;
  }

  start(intervalMs = 15_000): void {
    if (this.timer) return;
    const run = () => {
      if (this.running) return;
      this.running = true;
      this.prune()
        .catch((err) => this.deps.log.warn({ err }, "record pruning failed; will retry"))
        .finally(() => {
          this.running = false;
        });
    };
    this.timer = setInterval(run, intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
