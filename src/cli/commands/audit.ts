import type { AuditEntry } from "../client/types.ts";
import { leaf } from "../command-kit.ts";
import { printList } from "../output/render.ts";
import type { Column } from "../output/table.ts";
import { parseInstant, parseInteger } from "../parse.ts";

const columns: Column<AuditEntry>[] = [
  { header: "time", value: (e) => e.createdAt },
  { header: "actor", value: (e) => e.username },
  { header: "action", value: (e) => e.action },
  { header: "resource", value: (e) => `${e.resourceType}/${e.resourceId}` },
  { header: "ip", value: (e) => e.ipAddress, wide: true },
  { header: "request", value: (e) => e.requestId, wide: true },
];

export const auditCommand = leaf({
  name: "audit",
  description: "Read the audit log (who changed what), newest first",
  examples: [
    "prexorctl audit",
    "prexorctl audit --actor alice --since 24h",
    "prexorctl audit --resource-type group --resource-id lobby -o json",
  ],
  args: {
    actor: { type: "string", description: "only changes by this user" },
    action: { type: "string", description: "only this action, e.g. group.create" },
    "resource-type": { type: "string", description: "only this kind of resource, e.g. group" },
    "resource-id": { type: "string", description: "only this resource" },
    since: { type: "string", description: "from this time (ISO) or this long ago (1h, 7d)" },
    until: { type: "string", description: "up to this time (ISO) or this long ago" },
    limit: { type: "string", description: "entries per page (default 50, max 500)" },
    page: { type: "string", description: "page number (default 1)" },
  },
  async run({ args, api, out }) {
    const result = await api().audit.query({
      actor: args.actor,
      action: args.action,
      resourceType: args["resource-type"],
      resourceId: args["resource-id"],
      from: parseInstant(args.since, "--since"),
      to: parseInstant(args.until, "--until"),
      pageSize: parseInteger(args.limit, "--limit", { min: 1, max: 500 }) ?? 50,
      page: parseInteger(args.page, "--page", { min: 1 }) ?? 1,
    });
    printList(out, result.data, columns, { what: "audit", plural: "audit entries", name: (e) => e.id });
    if (out.format === "table" || out.format === "wide") {
      const shown = (result.page - 1) * result.pageSize + result.data.length;
      if (shown < result.total) out.note(`(${shown} of ${result.total}; next: --page ${result.page + 1})`);
    }
  },
});
