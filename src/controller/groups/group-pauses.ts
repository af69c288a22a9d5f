import { systemClock } from "../../core/clock.ts";
import type { Logger } from "../../log/logger.ts";
import type { CollectionName } from "../../store/collections.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import type { CrashLoopGuard } from "../crashes/crash-loop-guard.ts";
import type { EventPublisher } from "../events/event-types.ts";

export const GROUP_PAUSES = "group_pauses" satisfies CollectionName;

/**
 * `group_pauses`, keyed by group: a PERMANENT plan/start failure stopped the group. Unlike the
 * crash-loop pause it never lifts by itself — retrying cannot fix a missing catalog entry, a hash
 * mismatch or an unaccepted EULA — only `group resume` (or fixing and resuming) does.
 */
export interface GroupPauseDoc extends Doc {
  code: string;
  reason: string;
  instanceId: string;
  pausedAt: number;
}

/** Why a group is paused, as status, group list and group info show it. */
export interface GroupPauseView {
  kind: "failure" | "crash-loop";
  code: string;
  reason: string;
  since: string;
  instanceId?: string;
  until?: string;
}

export interface PauseMetrics {
  groupPaused(code: string): void;
}

/**
 * The permanent-failure pause and its lifting, beside the crash-loop pause its guard owns; the
 * scheduler's world reader reads the same collection.
 */
export class GroupPauses {
  constructor(
    private readonly store: DurableStore,
    private readonly loops: Pick<CrashLoopGuard, "forget" | "pausesIn">,
    private readonly events: EventPublisher,
    private readonly log: Logger,
    private readonly metrics: PauseMetrics = { groupPaused() {} },
    private readonly now: () => number = systemClock.now,
  ) {}

  private get col() {
    return this.store.collection<GroupPauseDoc>(GROUP_PAUSES);
  }

  /** Pauses the group for a PERMANENT failure; a group already paused keeps its first reason. */
  async pause(group: string, failure: { code: string; message: string; instanceId: string }): Promise<void> {
    if (await this.col.get(group)) return;
    const reason = `${failure.code}: ${failure.message}`;
    await this.col.put({
      _id: group,
      code: failure.code,
      reason,
      instanceId: failure.instanceId,
      pausedAt: this.now(),
    });
    this.metrics.groupPaused(failure.code);
    this.log.warn(
      { group, code: failure.code, instanceId: failure.instanceId },
      "permanent failure: group paused",
    );
    await this.events
      .publish({ type: "GROUP_PAUSED", group, payload: { group, code: failure.code, reason } })
      // the event is informational; the pause is already stored and logged above
      .catch(() => undefined);
  }

  /** Lifts both kinds of pause and forgets the crash-loop window and backoff (a manual unpause). */
  async resume(group: string): Promise<boolean> {
    const had = (await this.col.get(group)) !== null;
    await this.col.delete(group);
    const lifted = (await this.loops.forget(group)) || had;
    if (lifted) this.log.info({ group }, "group resumed");
    return lifted;
  }

  async get(group: string): Promise<GroupPauseView | null> {
    return (await this.all([group])).get(group) ?? null;
  }

  /** The pauses in force for the groups named (every group when none are named). */
  async all(groups?: readonly string[]): Promise<Map<string, GroupPauseView>> {
    const filter = groups ? { _id: { $in: [...groups] } } : {};
    const [failures, loops] = await Promise.all([
      this.col.find(filter, { limit: 10_000 }),
      this.loops.pausesIn(groups),
    ]);
    const out = new Map<string, GroupPauseView>();
    for (const loop of loops) {
      out.set(loop._id, {
        kind: "crash-loop",
        code: "CRASH_LOOP",
        reason: `crash loop paused (${loop.crashTimesMs.length} crashes in the window)`,
        since: new Date(loop.updatedAt).toISOString(),
        until: new Date(loop.pausedUntilMs ?? 0).toISOString(),
      });
    }
    // A permanent failure is the more useful reason: resuming the crash loop would not fix it.
    for (const doc of failures) {
      out.set(doc._id, {
        kind: "failure",
        code: doc.code,
        reason: doc.reason,
        since: new Date(doc.pausedAt).toISOString(),
        instanceId: doc.instanceId,
      });
    }
    return out;
  }
}
