import { t as T } from "elysia";
import { AppError } from "../../../core/errors.ts";
import { type InstanceMetrics, toMetricsView } from "../../workload/instance-metrics.ts";
import { Iso } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

/** The plugin's last report (its own fields) plus who sent it and when. */
const MetricsView = T.Object({
  instanceId: T.String(),
  group: T.String(),
  kind: T.Union([T.Literal("server"), T.Literal("proxy")]),
  receivedAt: Iso,
});

const Id = T.Object({ id: T.String({ pattern: "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$" }) });

/** `/api/v1/services/{id}/metrics` and `/proxy-metrics`: the latest report of the instance's plugin. */
export function instanceMetricsRoutes(table: RouteTable, deps: { instanceMetrics: InstanceMetrics }): void {
  const latest = async (id: string, kind?: "proxy") => {
    const record = await deps.instanceMetrics.latest(id);
    if (!record || (kind && record.kind !== kind)) {
      throw new AppError("NOT_FOUND", `no ${kind ? "proxy " : ""}metrics reported for instance "${id}"`);
    }
    return toMetricsView(record);
  };
  table
    .add({
      method: "GET",
      path: "/api/v1/services/:id/metrics",
      response: MetricsView,
      access: "instances.view",
      tag: "instances",
      summary: "The latest metrics the instance's plugin reported (404 when none in the last 5 minutes)",
      params: Id,
      handler: ({ params }) => latest(params.id),
    })
    .add({
      method: "GET",
      path: "/api/v1/services/:id/proxy-metrics",
      response: MetricsView,
      access: "instances.view",
      tag: "instances",
      summary: "The latest metrics a proxy instance reported",
      params: Id,
      handler: ({ params }) => latest(params.id, "proxy"),
    });
}
