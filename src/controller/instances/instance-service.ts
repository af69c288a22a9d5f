import { systemClock } from "../../core/clock.ts";
import { AppError } from "../../core/errors.ts";
import {
  type InstanceState,
  isTerminalState,
  type LifecycleActor,
  SERVING_STATES,
  STATE_OWNER,
  transition,
} from "../../core/lifecycle/index.ts";
import type { Logger } from "../../log/logger.ts";
import { findPage } from "../../store/find-page.ts";
import type {
  DurableStore,
  Fence,
  Filter,
  NewDoc,
  Patch,
  UpdateOptions,
  WriteOptions,
} from "../../store/port.ts";
import type { EventPublisher } from "../events/event-types.ts";
import { INSTANCES, type InstanceDoc } from "./instance-doc.ts";

/** The most instance records one read returns (the fleet bench runs 5,000; ten times that is headroom). */
export const LIST_LIMIT = 50_000;

export interface InstanceQuery {
  group?: string;
  node?: string;
  state?: InstanceState;
  page: number;
  pageSize: number;
}

/** Called after every applied transition; the lifecycle uses it to revoke tokens and drop consoles. */
export type TerminalListener = (doc: InstanceDoc) => void;

/**
 * The `instances` collection behind one door: reads with filters and paging, and every state change
 * through the lifecycle FSM. An illegal move is logged and refused, never written, and every applied
 * move publishes INSTANCE_STATE_CHANGED.
 */
export class InstanceService {
  private readonly terminalListeners = new Set<TerminalListener>();
  private readonly drainingListeners = new Set<TerminalListener>();

  constructor(
    private readonly store: DurableStore,
    private readonly events: EventPublisher,
    private readonly log: Logger,
    private readonly now: () => number = systemClock.now,
  ) {}

  /** Private: everything outside reads and writes instance records through the methods below. */
  private get col() {
    return this.store.collection<InstanceDoc>(INSTANCES);
  }

  /**
   * Records matching `filter`, in `_id` order, at most `limit` (capped at LIST_LIMIT): every read
   * of many instances is bounded, whatever the fleet's size.
   */
  findMany(filter: Filter = {}, limit = LIST_LIMIT): Promise<InstanceDoc[]> {
    return this.col.find(filter, { sort: [["_id", 1]], limit: Math.min(limit, LIST_LIMIT) });
  }

  /** The instances serving players (RUNNING or DRAINING), optionally of one group; bounded. */
  serving(filter: { group?: string } = {}): Promise<InstanceDoc[]> {
    return this.findMany({ ...filter, state: { $in: [...SERVING_STATES] } });
  }

  count(filter: Filter = {}): Promise<number> {
    return this.col.count(filter);
  }

  /** Writes a whole record (a new placement, an adopted instance); fenced when the caller holds a lease. */
  record(doc: NewDoc<InstanceDoc>, options?: WriteOptions): Promise<InstanceDoc> {
    return this.col.put(doc, options);
  }

  /** Sets fields that are not the lifecycle state (plan hash, stop time, start error, counters). */
  patch(id: string, fields: Patch<InstanceDoc>, options?: UpdateOptions): Promise<InstanceDoc | null> {
    return this.col.update(id, fields, options);
  }

  /**
   * Ended records (STOPPED before `stoppedBefore`, CRASHED before `crashedBefore`), oldest first,
   * at most `limit` (capped at LIST_LIMIT): what the record pruner works off per round.
   */
  endedBefore(stoppedBefore: number, crashedBefore: number, limit: number): Promise<InstanceDoc[]> {
    return this.col.find(
      {
        $or: [
          { state: "STOPPED", stateChangedAt: { $lt: stoppedBefore } },
          { state: "CRASHED", stateChangedAt: { $lt: crashedBefore } },
        ],
      },
      { sort: [["stateChangedAt", 1]], limit: Math.min(limit, LIST_LIMIT) },
    );
  }

  /**
   * Removes an ended record only if it is still what the pruner read (same state and plan).
   * Deliberately unfenced: no lease owns an ended record (its group may be gone, its node session
   * closed); the compare-and-delete is the guard, so a record re-placed under the same id since
   * (live again, written under a fence) is never matched. Returns whether it was removed.
   */
  async pruneIfUnchanged(doc: Pick<InstanceDoc, "_id" | "state" | "planHash">): Promise<boolean> {
    return (await this.col.deleteMany({ _id: doc._id, state: doc.state, planHash: doc.planHash })) > 0;
  }

  /** How many of the group's instances are RUNNING (a deployment's total at trigger). */
  countRunning(group: string): Promise<number> {
    return this.col.count({ group, state: "RUNNING" });
  }

  /** Which of `ids` still have a record (bounded by the ids asked about). */
  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const docs = await this.col.find({ _id: { $in: [...ids] } }, { limit: Math.min(ids.length, LIST_LIMIT) });
    return new Set(docs.map((d) => d._id));
  }

  /** Removes a record; the caller holds the group's lease and passes its fence. */
  remove(id: string, fence: Fence): Promise<boolean> {
    return this.col.delete(id, { fence });
  }

  onTerminal(listener: TerminalListener): () => void {
    this.terminalListeners.add(listener);
    return () => this.terminalListeners.delete(listener);
  }

  /** Called on the controller that moved the instance to DRAINING (once, not on every controller). */
  onDraining(listener: TerminalListener): () => void {
    this.drainingListeners.add(listener);
    return () => this.drainingListeners.delete(listener);
  }

  async list(query: InstanceQuery): Promise<{ data: InstanceDoc[]; total: number }> {
    const filter: Filter = {};
    if (query.group) filter.group = query.group;
    if (query.node) filter.node = query.node;
    if (query.state) filter.state = query.state;
    return findPage(this.col, filter, query, [["_id", 1]]);
  }

  get(id: string): Promise<InstanceDoc | null> {
    return this.col.get(id);
  }

  async require(id: string): Promise<InstanceDoc> {
    const doc = await this.col.get(id);
    if (!doc) throw new AppError("INSTANCE_NOT_FOUND", `instance "${id}" not found`);
    return doc;
  }

  /**
   * Moves an instance to `to` if the FSM allows it. `actor` defaults to the state's owner: the
   * controller decides on daemon reports (a STOPPED report becomes the controller's STOPPED), so
   * only legality is checked then; an explicit actor also enforces ownership. Returns the new doc,
   * or null when the move was refused (logged) or the instance is unknown.
   */
  async transition(
    id: string,
    to: InstanceState,
    reason: string,
    extra: Patch<InstanceDoc> = {},
    options: WriteOptions & { actor?: LifecycleActor } = {},
  ): Promise<InstanceDoc | null> {
    const current = await this.col.get(id);
    if (!current) return null;
    const result = transition({ id, state: current.state }, to, options.actor ?? STATE_OWNER[to]);
    if (!result.ok) {
      this.log.warn({ instanceId: id, from: current.state, to, reason }, result.error.message);
      return null;
    }
    const now = this.now();
    const patch: Patch<InstanceDoc> = result.changed
      ? { ...extra, state: to, stateChangedAt: now, reason }
      : { ...extra };
    const updated = await this.col.update(id, patch, options.fence ? { fence: options.fence } : {});
    if (!updated || !result.changed) return updated;
    this.announce(updated, current.state, to, reason);
    if (isTerminalState(to)) {
      for (const listener of this.terminalListeners) listener(updated);
    }
    return updated;
  }

  /**
   * The one move the lifecycle FSM does not have, made only by the reconciler: a record ended
   * CRASHED because its node was unreachable, and the node came back with the same plan's process
   * still running. It is taken back as it is (players stay connected) rather than left running
   * unmanaged or killed; the scheduler trims any replacement that is now surplus.
   */
  async readopt(
    id: string,
    to: InstanceState,
    reason: string,
    extra: Patch<InstanceDoc> = {},
    options: WriteOptions = {},
  ): Promise<void> {
    const current = await this.col.get(id);
    if (current?.state !== "CRASHED") return;
    const updated = await this.col.update(
      id,
      { ...extra, state: to, stateChangedAt: this.now(), reason, adoptedAt: this.now() },
      { unset: ["lostAt", "lostReason"], ...(options.fence ? { fence: options.fence } : {}) },
    );
    if (!updated) return;
    this.announce(updated, current.state, to, reason);
  }

  /** An applied state change: logged and published as INSTANCE_STATE_CHANGED. */
  private announce(updated: InstanceDoc, from: InstanceState, to: InstanceState, reason: string): void {
    this.log.info({ instanceId: updated._id, group: updated.group, from, to, reason }, "instance state");
    void this.events
      .publish({
        type: "INSTANCE_STATE_CHANGED",
        group: updated.group,
        payload: {
          instanceId: updated._id,
          group: updated.group,
          nodeId: updated.node,
          oldState: from,
          newState: to,
        },
      })
      // events are notifications; the change is already stored, and a lost event is recovered by listing
      .catch(() => undefined);
  }

  /** RUNNING → DRAINING, announced with INSTANCE_DRAINING; anything else is left as it is. */
  async drain(id: string, reason: string, options: WriteOptions = {}): Promise<InstanceDoc | null> {
    const current = await this.col.get(id);
    if (current?.state !== "RUNNING") return null;
    const updated = await this.transition(id, "DRAINING", reason, {}, options);
    if (updated?.state !== "DRAINING") return updated;
    for (const listener of this.drainingListeners) listener(updated);
    void this.events
      .publish({
        type: "INSTANCE_DRAINING",
        group: updated.group,
        payload: { instanceId: id, group: updated.group, nodeId: updated.node },
      })
      // events are notifications; the draining state is already stored
      .catch(() => undefined);
    return updated;
  }

  /** DRAINING → RUNNING; anything else is left as it is. */
  async undrain(id: string, reason: string, options: WriteOptions = {}): Promise<InstanceDoc | null> {
    const current = await this.col.get(id);
    if (current?.state !== "DRAINING") return null;
    return this.transition(id, "RUNNING", reason, {}, options);
  }
}
