import { t as T } from "elysia";
import type { AuditDoc, AuditLog } from "../../audit/audit-log.ts";
import { listEnvelope, pageParams } from "../paging.ts";
import { Iso, Paged } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

const AuditView = T.Object({
  id: T.String(),
  username: T.String(),
  action: T.String(),
  resourceType: T.String(),
  resourceId: T.String(),
  details: T.Unknown(),
  before: T.Optional(T.Unknown()),
  after: T.Optional(T.Unknown()),
  ipAddress: T.String(),
  requestId: T.String(),
  createdAt: Iso,
});

const Filter = T.String({ minLength: 1, maxLength: 128 });
const Instant = T.String({ format: "date-time" });

function view(doc: AuditDoc) {
  return {
    id: doc._id,
    username: doc.username,
    action: doc.action,
    resourceType: doc.resourceType,
    resourceId: doc.resourceId,
    details: JSON.parse(doc.details),
    ...(doc.before !== undefined ? { before: safeParse(doc.before) } : {}),
    ...(doc.after !== undefined ? { after: safeParse(doc.after) } : {}),
    ipAddress: doc.ipAddress,
    requestId: doc.requestId,
    createdAt: new Date(doc.createdAt).toISOString(),
  };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // a summary cut at its size cap
  }
}

export function auditRoutes(table: RouteTable, audit: AuditLog): void {
  table.add({
    method: "GET",
    path: "/api/v1/audit",
    response: Paged(AuditView),
    access: "audit.view",
    tag: "audit",
    summary: "Audit log, newest first, filtered by actor, action, resource and time",
    query: T.Object(
      {
        page: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
        pageSize: T.Optional(T.Integer({ minimum: 1, maximum: 500, default: 50 })),
        actor: T.Optional(Filter),
        action: T.Optional(Filter),
        resourceType: T.Optional(Filter),
        resourceId: T.Optional(Filter),
        from: T.Optional(Instant),
        to: T.Optional(Instant),
      },
      { additionalProperties: false },
    ),
    handler: async ({ query }) => {
      const { page, pageSize } = pageParams(query);
      const { data, total } = await audit.query({
        ...query,
        page,
        pageSize,
        from: query.from ? Date.parse(query.from) : undefined,
        to: query.to ? Date.parse(query.to) : undefined,
      });
      return listEnvelope(data.map(view), page, pageSize, total);
    },
  });
}
