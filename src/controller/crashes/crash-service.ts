import { systemClock } from "../../core/clock.ts";
import { classifyCrash } from "../../core/crash/index.ts";
import { AppError, isAppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { CollectionName } from "../../store/collections.ts";
import { findPage } from "../../store/find-page.ts";
import type { Doc, DurableStore, Fence, Filter } from "../../store/port.ts";
import type { CrashReport } from "../../wire/index.ts";
import type { EventPublisher } from "../events/event-types.ts";
import type { InstanceService } from "../instances/instance-service.ts";
import type { CrashLoopGuard } from "./crash-loop-guard.ts";

export const CRASHES = "crashes" satisfies CollectionName;
export const MAX_TAIL_LINES = 500;
export const MAX_TAIL_LINE_CHARS = 8192;

/** `crashes`, keyed by crash id. */
export interface CrashDoc extends Doc {
  instanceId: string;
  group: string;
  node: string;
  exitCode: number | null;
  signal: string | null;
  classification: string;
  causeSummary: string;
  signature: string;
  uptimeMs: number;
  planHash: string;
  crashedAt: number;
  logTail: string[];
}

export function toCrashView(doc: CrashDoc) {
  const { _id, _rev: _r, _fence: _f, crashedAt, ...rest } = doc;
  return { id: _id, ...rest, crashedAt: new Date(crashedAt).toISOString() };
}

/**
 * Crash reports from daemons: checked (the reporting node must own the instance; tail within the
 * limits), classified, stored once (a report replayed after a reconnect maps to the same id), the
 * instance moved to CRASHED, INSTANCE_CRASHED published and the crash fed to the crash-loop guard.
 */
export class CrashService {
  constructor(
    private readonly store: DurableStore,
    private readonly instances: InstanceService,
    private readonly loops: CrashLoopGuard,
    private readonly events: EventPublisher,
    private readonly log: Logger,
    private readonly now: () => number = systemClock.now,
  ) {}

  private get col() {
    return this.store.collection<CrashDoc>(CRASHES);
  }

  /** Retention: removes the crash records older than `cutoffMs`; returns how many went. */
  pruneBefore(cutoffMs: number): Promise<number> {
    return this.col.deleteMany({ crashedAt: { $lt: cutoffMs } });
  }

  count(): Promise<number> {
    return this.col.count({});
  }

  async list(query: { group?: string; node?: string; page: number; pageSize: number }) {
    const filter: Filter = {};
    if (query.group) filter.group = query.group;
    if (query.node) filter.node = query.node;
    return findPage(this.col, filter, query, [["crashedAt", -1]]);
  }

  async get(id: string): Promise<CrashDoc> {
    const doc = await this.col.get(id);
    if (!doc) throw new AppError("NOT_FOUND", `crash "${id}" not found`);
    return doc;
  }

  /**
   * Returns the stored crash, or null when the report was refused or already recorded. Every write
   * carries `fence`, the fence of the node session that received the report: a controller that
   * lost the node while paused cannot record a crash or end an instance the new holder manages.
   */
  async report(nodeId: string, report: CrashReport, fence?: Fence): Promise<CrashDoc | null> {
    const w = { fence };
    const instance = await this.instances.get(report.instanceId);
    if (!instance || instance.node !== nodeId) {
      this.log.warn(
        { nodeId, instanceId: report.instanceId },
        "crash report for an instance the node does not own; refused",
      );
      return null;
    }
    if (
      report.logTail.length > MAX_TAIL_LINES ||
      report.logTail.some((line) => line.length > MAX_TAIL_LINE_CHARS)
    ) {
      this.log.warn({ nodeId, instanceId: report.instanceId }, "crash report over the tail limits; refused");
      return null;
    }
    const classified = classifyCrash({
      exitCode: report.exitCode,
      signal: report.signal || null,
      logTail: report.logTail,
      instanceId: report.instanceId,
    });
    const crashedAt = this.now();
    // One plan runs at most once, so instance + plan hash identifies the crash across replays.
    const id = report.planHash
      ? `${report.instanceId}-${report.planHash.slice(0, 12)}`
      : `${report.instanceId}-${crypto.randomUUID().slice(0, 8)}`;
    let doc: CrashDoc;
    try {
      doc = await this.col.insert(
        {
          _id: id,
          instanceId: report.instanceId,
          group: instance.group,
          node: nodeId,
          exitCode: report.signal ? null : report.exitCode,
          signal: report.signal || null,
          classification: classified.class,
          causeSummary: classified.reason,
          signature: classified.signature,
          uptimeMs: report.uptimeMs,
          planHash: report.planHash,
          crashedAt,
          logTail: [...report.logTail],
        },
        w,
      );
    } catch (err) {
      if (isAppError(err, "DUPLICATE_KEY")) return null;
      throw err;
    }
    this.log.warn(
      {
        instanceId: doc.instanceId,
        group: doc.group,
        classification: doc.classification,
        exitCode: doc.exitCode,
      },
      "instance crashed",
    );
    await this.instances.transition(
      doc.instanceId,
      "CRASHED",
      `crashed: ${doc.causeSummary}`,
      { lastCrashId: id },
      w,
    );
    await this.instances.patch(doc.instanceId, { lastCrashId: id }, w);
    await this.events
      .publish({
        type: "INSTANCE_CRASHED",
        group: doc.group,
        payload: {
          instanceId: doc.instanceId,
          group: doc.group,
          nodeId,
          exitCode: doc.exitCode,
          classification: doc.classification,
          logTail: doc.logTail.slice(-50),
          uptimeMs: doc.uptimeMs,
        },
      })
      // Events are best effort: the bus logs a failed append, and the crash is stored.
      .catch(() => undefined);
    await this.loops.record(doc.group, crashedAt);
    return doc;
  }
}
