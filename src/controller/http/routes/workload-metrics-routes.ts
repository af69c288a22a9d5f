import type { TObject } from "@sinclair/typebox";
import { t as T } from "elysia";
import { type Clock, systemClock } from "../../../core/clock.ts";
import type { EventPublisher } from "../../events/event-types.ts";
import type { InstanceMetrics, MetricsKind } from "../../workload/instance-metrics.ts";
import type { WorkloadAuth } from "../../workload/workload-auth.ts";
import { StatusAnswer } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

export interface WorkloadMetricsDeps {
  auth: WorkloadAuth;
  instanceMetrics: InstanceMetrics;
  events: EventPublisher;
  clock?: Pick<Clock, "now">;
}

// TypeBox numbers are finite: a 1e999 in the JSON (Infinity) fails validation.
const Amount = T.Optional(T.Number({ minimum: 0 }));
const Count = T.Optional(T.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }));
const Label = (max: number) => T.Optional(T.String({ maxLength: max }));

/** The server plugin's MetricsPayload (field names from the product's plugin). */
export const ServerMetrics = T.Object(
  {
    tps1m: Amount,
    tps5m: Amount,
    tps15m: Amount,
    msptAvg: Amount,
    heapUsedMb: Amount,
    heapMaxMb: Amount,
    heapCommittedMb: Amount,
    gcCollections: Count,
    gcTimeMs: Count,
    threadCount: Count,
    daemonThreadCount: Count,
    playerCount: Count,
    maxPlayers: Count,
    worldCount: Count,
    totalEntities: Count,
    totalChunks: Count,
    worlds: T.Optional(
      T.Array(
        T.Object(
          {
            name: T.String({ maxLength: 128 }),
            environment: Label(64),
            entityCount: Count,
            chunkCount: Count,
            playerCount: Count,
          },
          { additionalProperties: false },
        ),
        { maxItems: 256 },
      ),
    ),
    serverVersion: Label(256),
    pluginCount: Count,
    uptimeMs: Count,
  },
  { additionalProperties: false, minProperties: 1 },
);

/** What a proxy reports: its own JVM and the players it routes per backend server. */
export const ProxyMetrics = T.Object(
  {
    playerCount: Count,
    maxPlayers: Count,
    heapUsedMb: Amount,
    heapMaxMb: Amount,
    threadCount: Count,
    uptimeMs: Count,
    serverVersion: Label(256),
    pluginCount: Count,
    servers: T.Optional(
      T.Array(
        T.Object({ name: T.String({ maxLength: 128 }), playerCount: Count }, { additionalProperties: false }),
        {
          maxItems: 10_000,
        },
      ),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** `POST {prefix}/metrics`: keep the report as the instance's latest and announce it. */
export function workloadMetricsRoutes(
  table: RouteTable,
  prefix: string,
  kind: MetricsKind,
  deps: WorkloadMetricsDeps,
): void {
  const { auth } = deps;
  const schema: TObject = kind === "proxy" ? ProxyMetrics : ServerMetrics;
  table.add({
    method: "POST",
    path: `${prefix}/metrics`,
    access: "workload",
    guard: auth.guard({ sequenced: true }),
    tag: prefix.slice(5),
    summary: kind === "proxy" ? "Report proxy metrics" : "Report server metrics (TPS, heap, worlds, …)",
    body: schema,
    response: StatusAnswer("ok"),
    handler: async ({ request, body }) => {
      const { instanceId, group } = auth.identity(request);
      const values = body as Record<string, unknown>;
      await deps.instanceMetrics.record({
        instanceId,
        group,
        kind,
        receivedAt: (deps.clock ?? systemClock).now(),
        values,
      });
      await deps.events
        .publish({ type: "INSTANCE_METRICS", group, payload: { ...values, instanceId, group } })
        // Events are best effort: the bus logs a failed append, and the sample is recorded.
        .catch(() => undefined);
      return { status: "ok" };
    },
  });
}
