import { t as T } from "elysia";
import { type CrashService, toCrashView } from "../../crashes/crash-service.ts";
import { listEnvelope } from "../paging.ts";
import { Iso, Nullable, Paged } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

const CrashView = T.Object({
  id: T.String(),
  instanceId: T.String(),
  group: T.String(),
  node: T.String(),
  exitCode: Nullable(T.Integer()),
  signal: Nullable(T.String()),
  classification: T.String(),
  causeSummary: T.String(),
  signature: T.String(),
  uptimeMs: T.Number({ minimum: 0 }),
  planHash: T.String(),
  crashedAt: Iso,
  logTail: T.Array(T.String()),
});

/** `/api/v1/crashes`: stored crash reports, newest first. */
export function crashRoutes(table: RouteTable, crashes: CrashService): void {
  table
    .add({
      method: "GET",
      path: "/api/v1/crashes",
      response: Paged(CrashView),
      access: "crashes.view",
      tag: "crashes",
      summary: "Crash reports, newest first; filter by group and node (limit/offset accepted too)",
      query: T.Object(
        {
          page: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000 })),
          pageSize: T.Optional(T.Integer({ minimum: 1, maximum: 500 })),
          limit: T.Optional(T.Integer({ minimum: 1, maximum: 500 })),
          offset: T.Optional(T.Integer({ minimum: 0, maximum: 500_000_000 })),
          group: T.Optional(T.String({ maxLength: 64 })),
          node: T.Optional(T.String({ maxLength: 128 })),
        },
        { additionalProperties: false },
      ),
      handler: async ({ query }) => {
        const pageSize = query.pageSize ?? query.limit ?? 50;
        // The legacy offset wins when given, rounded down to the page it falls in.
        const page = query.offset !== undefined ? Math.floor(query.offset / pageSize) + 1 : (query.page ?? 1);
        const { data, total } = await crashes.list({ ...query, page, pageSize });
        return listEnvelope(data.map(toCrashView), page, pageSize, total);
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/crashes/:id",
      response: CrashView,
      access: "crashes.view",
      tag: "crashes",
      summary: "One crash report with its log tail",
      params: T.Object({ id: T.String({ maxLength: 200 }) }),
      handler: async ({ params }) => toCrashView(await crashes.get(params.id)),
    });
}
