import { systemClock } from "../../core/clock.ts";
import { redactSecrets } from "../../log/redact.ts";
import type { CollectionName } from "../../store/collections.ts";
import { findPage } from "../../store/find-page.ts";
import type { Doc, DurableStore, Filter } from "../../store/port.ts";

/** The audit trail, one document per mutation. */
export const AUDIT_LOG = "audit_log" satisfies CollectionName;

export interface AuditDoc extends Doc {
  username: string;
  action: string;
  resourceType: string;
  resourceId: string;
  before?: string;
  after?: string;
  details: string;
  ipAddress: string;
  requestId: string;
  createdAt: number;
}

export interface AuditEntry {
  actor: string;
  action: string;
  resourceType: string;
  resourceId: string;
  before?: unknown;
  after?: unknown;
  details?: Record<string, unknown>;
  ip: string;
  requestId: string;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  resourceType?: string;
  resourceId?: string;
  from?: number;
  to?: number;
  page: number;
  pageSize: number;
}

/** Summaries are capped so one huge object cannot bloat the audit collection. */
const MAX_SUMMARY_CHARS = 8192;

function summarize(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const json = JSON.stringify(redactSecrets(value));
  return json.length > MAX_SUMMARY_CHARS ? `${json.slice(0, MAX_SUMMARY_CHARS)}…` : json;
}

let lastMs = 0;
let counter = 0;
/** Ids sort by time (newest-first paging) and stay unique within a millisecond. */
function auditId(now: number): string {
  counter = now === lastMs ? counter + 1 : 0;
  lastMs = now;
  return `${now.toString(36).padStart(9, "0")}${counter.toString(36).padStart(3, "0")}${crypto.randomUUID().slice(0, 8)}`;
}

/** One record per state-changing call, secrets redacted, pruned explicitly by age. */
export class AuditLog {
  constructor(
    private readonly store: DurableStore,
    private readonly now: () => number = systemClock.now,
  ) {}

  private get col() {
    return this.store.collection<AuditDoc>(AUDIT_LOG);
  }

  async record(entry: AuditEntry): Promise<void> {
    const createdAt = this.now();
    const doc: AuditDoc = {
      _id: auditId(createdAt),
      username: entry.actor,
      action: entry.action,
      resourceType: entry.resourceType,
      resourceId: entry.resourceId,
      details: summarize(entry.details ?? {}) ?? "{}",
      ipAddress: entry.ip,
      requestId: entry.requestId,
      createdAt,
    };
    const before = summarize(entry.before);
    const after = summarize(entry.after);
    if (before !== undefined) doc.before = before;
    if (after !== undefined) doc.after = after;
    await this.col.insert(doc);
  }

  async query(q: AuditQuery): Promise<{ data: AuditDoc[]; total: number }> {
    const filter: Filter = {};
    if (q.actor) filter.username = q.actor;
    if (q.action) filter.action = q.action;
    if (q.resourceType) filter.resourceType = q.resourceType;
    if (q.resourceId) filter.resourceId = q.resourceId;
    if (q.from !== undefined || q.to !== undefined) {
      filter.createdAt = {
        ...(q.from !== undefined ? { $gte: q.from } : {}),
        ...(q.to !== undefined ? { $lte: q.to } : {}),
      };
    }
    return findPage(this.col, filter, q, [
      ["createdAt", -1],
      ["_id", -1],
    ]);
  }

  /** Removes records older than the retention; returns how many went. */
  prune(retentionDays: number): Promise<number> {
    return this.col.deleteMany({ createdAt: { $lt: this.now() - retentionDays * 86_400_000 } });
  }
}
