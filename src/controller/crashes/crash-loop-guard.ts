import { systemClock } from "../../core/clock.ts";
import {
  type CrashLoopConfig,
  type CrashLoopState,
  checkAutoUnpause,
  INITIAL_CRASH_LOOP_STATE,
  recordCrash,
} from "../../core/crash/index.ts";
import type { Logger } from "../../log/logger.ts";
import type { CollectionName } from "../../store/collections.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import type { EventPublisher } from "../events/event-types.ts";

export const CRASH_LOOPS = "crash_loops" satisfies CollectionName;

/**
 * `crash_loops`, keyed by group name: the detector state. `pausedUntilMs` is what the scheduler reads:
 * the group is paused while it is a number greater than now (CrashLoopGuard.isPaused does that).
 */
export interface CrashLoopDoc extends Doc, CrashLoopState {
  updatedAt: number;
}

const UNPAUSE_SWEEP_MS = 5_000;

/**
 * The per-group crash-loop detector (core/crash) with its state in the store, so every controller
 * and the scheduler loop see the same pause. Crashes of one group are recorded one at a time on this
 * controller; a pause publishes GROUP_CRASH_LOOP, and a sweep lifts pauses whose cooldown elapsed.
 */
export class CrashLoopGuard {
  private readonly chains = new Map<string, Promise<unknown>>();
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly store: DurableStore,
    private readonly events: EventPublisher,
    private readonly config: CrashLoopConfig,
    private readonly log: Logger,
    private readonly now: () => number = systemClock.now,
    private readonly onPause: () => void = () => {},
  ) {}

  private get col() {
    return this.store.collection<CrashLoopDoc>(CRASH_LOOPS);
  }

  async isPaused(group: string): Promise<boolean> {
    const doc = await this.col.get(group);
    return doc?.pausedUntilMs != null && doc.pausedUntilMs > this.now();
  }

  async state(group: string): Promise<CrashLoopState> {
    return (await this.col.get(group)) ?? INITIAL_CRASH_LOOP_STATE;
  }

  record(group: string, crashedAtMs: number): Promise<void> {
    return this.serial(group, async () => {
      const now = this.now();
      const step = recordCrash(await this.state(group), crashedAtMs, now, this.config);
      await this.save(group, step.state);
      for (const decision of step.decisions) {
        if (decision.type !== "pause") continue;
        this.log.warn(
          { group, crashCount: decision.crashCount, cooldownSeconds: decision.cooldownSeconds },
          "crash loop: group paused",
        );
        this.onPause();
        await this.events
          .publish({
            type: "GROUP_CRASH_LOOP",
            group,
            payload: {
              group,
              crashCount: decision.crashCount,
              windowStart: new Date(decision.windowStartMs).toISOString(),
            },
          })
          // the event is informational; the pause is already stored and visible through the API
          .catch(() => undefined);
      }
    });
  }

  /**
   * A manual unpause: forgets the group's crash window and backoff. Says whether a pause was in
   * force. Ordered with the group's crash recording, so a crash being recorded is not lost half-way.
   */
  forget(group: string): Promise<boolean> {
    return this.serial(group, async () => {
      const doc = await this.col.get(group);
      if (doc === null) return false;
      await this.col.delete(group);
      return (doc.pausedUntilMs ?? 0) > this.now();
    });
  }

  /** The crash-loop pauses in force, for the groups named (every group when none are named). */
  pausesIn(groups?: readonly string[]): Promise<CrashLoopDoc[]> {
    const filter = groups ? { _id: { $in: [...groups] } } : {};
    return this.col.find({ ...filter, pausedUntilMs: { $gt: this.now() } }, { limit: 10_000 });
  }

  start(): void {
    // a failed sweep changes nothing and the next interval runs it again
    this.sweeper ??= setInterval(() => void this.sweep().catch(() => undefined), UNPAUSE_SWEEP_MS);
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Lifts elapsed pauses (the backoff is kept: only a manual unpause forgets it). */
  async sweep(): Promise<void> {
    for (const doc of await this.col.find({ pausedUntilMs: { $lte: this.now() } })) {
      await this.serial(doc._id, async () => {
        const step = checkAutoUnpause(await this.state(doc._id), this.now());
        if (step.decisions.length === 0) return;
        await this.save(doc._id, step.state);
        this.log.info({ group: doc._id }, "crash loop: cooldown elapsed, group unpaused");
      });
    }
  }

  private async save(group: string, state: CrashLoopState): Promise<void> {
    await this.col.put({
      _id: group,
      ...state,
      crashTimesMs: [...state.crashTimesMs],
      updatedAt: this.now(),
    });
  }

  private serial<T>(group: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(group) ?? Promise.resolve();
    // only orders the chain: the earlier caller already received its own error
    const next = previous.catch(() => undefined).then(work);
    this.chains.set(group, next);
    void next.finally(() => {
      if (this.chains.get(group) === next) this.chains.delete(group);
    });
    return next;
  }
}
