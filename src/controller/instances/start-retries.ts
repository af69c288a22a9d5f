import { systemClock } from "../../core/clock.ts";
import { isAppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { CollectionName } from "../../store/collections.ts";
import type { Doc, DurableStore, Fence } from "../../store/port.ts";

/** `workflow_start_retries`: a TRANSIENT start refusal waiting for its next attempt. */
export interface StartRetryDoc extends Doc {
  group: string;
  node: string;
  planHash: string;
  /** refusals so far */
  attempt: number;
  retryAt: number;
  lastError: string;
}

export const START_RETRIES = "workflow_start_retries" satisfies CollectionName;
/** TRANSIENT start refusals are retried until this many refusals; the next one gives up. */
export const MAX_START_ATTEMPTS = 3;
const PUMP_INTERVAL_MS = 1_000;
/**
 * A due retry is pushed this far ahead before it is dispatched, so a controller that dies between
 * the two leaves an intent that fires again rather than one that is lost.
 */
const INFLIGHT_HOLD_MS = 30_000;

export type RefusalOutcome =
  | { retry: true; attempt: number; retryAt: number }
  | { retry: false; attempt: number };

export interface RetryDispatcher {
  /** sends the start again; `node` is the intent's node, whose session this controller holds */
  dispatch(instanceId: string, node: string): Promise<boolean>;
}

/**
 * Durable start retries. The intent lives in the store, not a timer, so a restart or another
 * controller resumes it. Only the controller that holds the node's session dispatches (a node has
 * one session at a time), and it claims a due intent with a revision check before sending, so two
 * controllers never double-send the same attempt.
 */
export class StartRetries {
  private timer: ReturnType<typeof setInterval> | null = null;
  private pumping = false;

  constructor(
    private readonly deps: {
      store: DurableStore;
      /** whether this controller holds the node's session right now */
      holdsSession: (nodeId: string) => boolean;
      log: Logger;
      now?: () => number;
    },
  ) {}

  private get col() {
    return this.deps.store.collection<StartRetryDoc>(START_RETRIES);
  }

  private now(): number {
    return (this.deps.now ?? systemClock.now)();
  }

  /** Records one refusal; says whether another attempt follows and when. */
  async refused(
    instance: { _id: string; group: string; node: string; planHash: string },
    error: string,
    retryAfterSeconds: number,
    fence?: Fence,
  ): Promise<RefusalOutcome> {
    const previous = await this.col.get(instance._id);
    // A retry for an older plan of the same id (a replaced static instance) does not count.
    const attempt = (previous?.planHash === instance.planHash ? previous.attempt : 0) + 1;
    if (attempt >= MAX_START_ATTEMPTS) {
      await this.col.delete(instance._id, { fence });
      return { retry: false, attempt };
    }
    const retryAt = this.now() + Math.max(1, retryAfterSeconds) * 1000;
    await this.col.put(
      {
        _id: instance._id,
        group: instance.group,
        node: instance.node,
        planHash: instance.planHash,
        attempt,
        retryAt,
        lastError: error,
      },
      { fence },
    );
    return { retry: true, attempt, retryAt };
  }

  /**
   * The start was accepted, or the instance ended: nothing left to retry. `fence` is the decision's
   * (the node session that read the answer); the terminal-state cleanup passes none, since removing
   * the intent of an ended instance is right whoever does it.
   */
  async clear(instanceId: string, fence?: Fence): Promise<void> {
    await this.col.delete(instanceId, { fence });
  }

  /** The intent of a pruned record, only if it is still for the plan that record had. */
  async forget(instanceId: string, planHash: string): Promise<void> {
    await this.col.deleteMany({ _id: instanceId, planHash });
  }

  async pending(instanceId: string): Promise<StartRetryDoc | null> {
    return this.col.get(instanceId);
  }

  count(): Promise<number> {
    return this.col.count({});
  }

  /** Dispatches every due intent whose node this controller serves; returns how many were sent. */
  async pump(dispatcher: RetryDispatcher): Promise<number> {
    const now = this.now();
    const due = await this.col.find({ retryAt: { $lte: now } }, { sort: [["retryAt", 1]], limit: 500 });
    let sent = 0;
    for (const intent of due) {
      if (!this.deps.holdsSession(intent.node)) continue;
      if (!(await this.claim(intent, now + INFLIGHT_HOLD_MS))) continue;
      try {
        if (await dispatcher.dispatch(intent._id, intent.node)) sent++;
        else {
          // Either the record moved on (stopped, crashed, deleted) and the intent is moot, or the
          // session just closed, and the node's next Hello re-dispatches its SCHEDULED starts.
          await this.col.delete(intent._id);
        }
      } catch (err) {
        this.deps.log.warn({ instanceId: intent._id, err }, "start retry failed");
      }
    }
    return sent;
  }

  /** Pushes the intent's retry time on, only if nobody else touched it since it was read. */
  private async claim(intent: StartRetryDoc, holdUntil: number): Promise<boolean> {
    try {
      return (await this.col.update(intent._id, { retryAt: holdUntil }, { ifRev: intent._rev })) !== null;
    } catch (err) {
      if (isAppError(err, "CONFLICT")) return false;
      throw err;
    }
  }

  start(dispatcher: RetryDispatcher): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.pumping) return;
      this.pumping = true;
      this.pump(dispatcher)
        .catch((err) => this.deps.log.warn({ err }, "start-retry pump failed"))
        .finally(() => {
          this.pumping = false;
        });
    }, PUMP_INTERVAL_MS);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
