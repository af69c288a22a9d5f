import { Type as T } from "@sinclair/typebox";
import type { Clock } from "../../../core/clock.ts";
import type { RoutingSource } from "../../deployments/routing-view.ts";
import type { CustomEventPublisher, EventPublisher } from "../../events/event-types.ts";
import type { SseTickets } from "../../events/sse-tickets.ts";
import type { GroupService } from "../../groups/group-service.ts";
import { toInstanceView } from "../../instances/instance-doc.ts";
import type { InstanceService } from "../../instances/instance-service.ts";
import type { PlayerSessions } from "../../players/player-sessions.ts";
import type { PlayerTransfers } from "../../players/player-transfers.ts";
import type { InstanceMetrics } from "../../workload/instance-metrics.ts";
import type { WorkloadAuth } from "../../workload/workload-auth.ts";
import { DataOf, Iso, Nullable, StatusAnswer } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";
import { InstanceView } from "./instance-routes.ts";
import { workloadEventRoutes } from "./workload-event-routes.ts";
import { pluginMessageRoutes } from "./workload-message-routes.ts";
import { workloadMetricsRoutes } from "./workload-metrics-routes.ts";
import { pluginTransferRoutes, workloadPlayerRoutes } from "./workload-player-routes.ts";

export interface WorkloadRouteDeps {
  auth: WorkloadAuth;
  instances: InstanceService;
  groups: GroupService;
  events: EventPublisher & CustomEventPublisher;
  players: PlayerSessions;
  transfers: PlayerTransfers;
  instanceMetrics: InstanceMetrics;
  /** absent when the event system is not running */
  tickets?: SseTickets;
  clock?: Pick<Clock, "now">;
  /** BLUE_GREEN routing: placement answers list only the side routing points at */
  routing?: RoutingSource;
}

const PROXY_PLATFORMS = new Set(["VELOCITY", "BUNGEECORD", "WATERFALL"]);

/**
 * The routes plugins and proxies share, under `prefix` (`/api/plugin` or `/api/proxy`). A token
 * only ever acts for its own instance: the instance id comes from the token, never from the body.
 */
export function sharedWorkloadRoutes(table: RouteTable, prefix: string, deps: WorkloadRouteDeps): void {
  const { auth, instances } = deps;
  const sequenced = auth.guard({ sequenced: true });
  const plain = auth.guard({ sequenced: false });
  const tag = prefix.slice(5);
  const kind = prefix === "/api/proxy" ? "proxy" : "server";
  workloadPlayerRoutes(table, prefix, kind, deps);
  workloadEventRoutes(table, prefix, deps);
  workloadMetricsRoutes(table, prefix, kind, deps);
  table
    .add({
      method: "POST",
      path: `${prefix}/auth/refresh`,
      response: T.Object({ token: T.String(), expiresAt: Iso }),
      access: "workload",
      guard: auth.refreshGuard,
      tag,
      summary: "Rotate the workload token (an expired one may refresh once within its TTL)",
      handler: ({ request }) => auth.refresh(request),
    })
    .add({
      method: "POST",
      path: `${prefix}/ready`,
      response: StatusAnswer("ok"),
      access: "workload",
      guard: sequenced,
      tag,
      summary: "The instance accepts players: it becomes RUNNING",
      handler: async ({ request }) => {
        const { instanceId } = auth.identity(request);
        const doc = await instances.require(instanceId);
        // Deliberately unfenced: the instance's own authenticated plugin says it is ready; no
        // controller lease decides this, and the lifecycle FSM refuses the move from a state
        // that does not allow it (an instance already stopping stays stopping).
        if (doc.state !== "RUNNING") {
          await instances.transition(
            instanceId,
            "RUNNING",
            "plugin reported ready",
            {},
            { actor: "controller" },
          );
        }
        return { status: "ok" };
      },
    })
    .add({
      method: "GET",
      path: `${prefix}/instances`,
      response: DataOf(InstanceView),
      access: "workload",
      guard: plain,
      tag,
      summary: "Live backend (non-proxy) instances",
      handler: async () => {
        const proxyGroups = new Set(
          (await deps.groups.list(1, 10_000)).data
            .filter((g) => PROXY_PLATFORMS.has(g.platform))
            .map((g) => g.name),
        );
        const [live, routable] = await Promise.all([instances.serving(), routableOf(deps)]);
        return {
          data: live.filter((i) => !proxyGroups.has(i.group) && routable(i)).map(toInstanceView),
        };
      },
    })
    .add({
      method: "GET",
      path: `${prefix}/groups`,
      response: DataOf(
        T.Object({
          name: T.String(),
          platform: T.String(),
          maxPlayers: T.Integer(),
          maintenance: T.Boolean(),
          maintenanceMessage: T.String(),
          maintenanceBypass: T.Array(T.String()),
          fallbackGroup: Nullable(T.String()),
          onlineInstances: T.Integer({ minimum: 0 }),
          onlinePlayers: T.Integer({ minimum: 0 }),
        }),
      ),
      access: "workload",
      guard: plain,
      tag,
      summary: "Groups with their online instance and player counts",
      handler: async () => {
        const groups = (await deps.groups.list(1, 10_000)).data;
        const [serving, routable] = await Promise.all([instances.serving(), routableOf(deps)]);
        const live = serving.filter(routable);
        return {
          data: groups.map((g) => {
            const mine = live.filter((i) => i.group === g.name);
            return {
              name: g.name,
              platform: g.platform,
              maxPlayers: g.maxPlayers,
              maintenance: g.maintenance,
              maintenanceMessage: g.maintenanceMessage,
              maintenanceBypass: g.maintenanceBypass,
              fallbackGroup: g.fallbackGroup ?? null,
              onlineInstances: mine.length,
              onlinePlayers: mine.reduce((sum, i) => sum + (i.players ?? 0), 0),
            };
          }),
        };
      },
    });
}

/** Every instance, unless a BLUE_GREEN deployment hides one side of its group. */
async function routableOf(
  deps: WorkloadRouteDeps,
): Promise<(i: { group: string; deploymentRevision?: number }) => boolean> {
  return (await deps.routing?.filter()) ?? (() => true);
}

/** `/api/plugin/*`: the server plugin's API, the shared routes plus transfers and messaging. */
export function pluginRoutes(table: RouteTable, deps: WorkloadRouteDeps): void {
  sharedWorkloadRoutes(table, "/api/plugin", deps);
  pluginTransferRoutes(table, deps);
  pluginMessageRoutes(table, deps);
}
