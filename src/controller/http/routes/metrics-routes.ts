import type { Metrics } from "../../metrics/metrics.ts";
import type { RouteTable } from "../route-table.ts";

/**
 * Prometheus scrape endpoint: unauthenticated and exempt from the subnet guard and rate limits
 * (app.ts lists it with the probes). Not declared at all when metrics are disabled, so the path
 * answers the ordinary 404 envelope.
 */
export function metricsRoutes(table: RouteTable, metrics: Metrics): void {
  if (!metrics.enabled) return;
  table.add({
    method: "GET",
    path: "/metrics",
    access: "public",
    tag: "system",
    summary: "Prometheus metrics (text format 0.0.4)",
    raw: true,
    rawType: "text/plain",
    handler: async () => {
      const { contentType, body } = await metrics.render();
      return new Response(body, { headers: { "content-type": contentType } });
    },
  });
}
