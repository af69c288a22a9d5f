import type { NetworkService } from "../../networks/network-service.ts";
import { DataOf } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";
import { NetworkView } from "./network-routes.ts";
import { sharedWorkloadRoutes, type WorkloadRouteDeps } from "./plugin-routes.ts";
import { proxyMessageRoutes } from "./workload-message-routes.ts";
import { proxyTransferRoutes } from "./workload-player-routes.ts";

/**
 * `/api/proxy/*`: the proxy plugin's API, the shared workload routes plus network compositions,
 * the transfers the proxy carries out and messaging.
 */
export function proxyRoutes(table: RouteTable, deps: WorkloadRouteDeps & { networks: NetworkService }): void {
  sharedWorkloadRoutes(table, "/api/proxy", deps);
  proxyTransferRoutes(table, deps);
  proxyMessageRoutes(table, deps);
  table.add({
    method: "GET",
    path: "/api/proxy/networks",
    response: DataOf(NetworkView),
    access: "workload",
    guard: deps.auth.guard({ sequenced: false }),
    tag: "proxy",
    summary: "Network compositions: lobby, fallbacks and member groups per network",
    handler: async () => ({ data: await deps.networks.list() }),
  });
}
