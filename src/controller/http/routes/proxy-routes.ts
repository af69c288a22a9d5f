import type { NetworkService } from "../../networks/network-service.ts";
import type { RouteTable } from "../route-table.ts";
import { sharedWorkloadRoutes, type WorkloadRouteDeps } from "./plugin-routes.ts";

/** `/api/proxy/*`: the proxy plugin's API, the shared workload routes plus network compositions. */
export function proxyRoutes(table: RouteTable, deps: WorkloadRouteDeps & { networks: NetworkService }): void {
  sharedWorkloadRoutes(table, "/api/proxy", deps);
  table.add({
    method: "GET",
    path: "/api/proxy/networks",
    access: "workload",
    guard: deps.auth.guard({ sequenced: false }),
    tag: "proxy",
    summary: "Network compositions: lobby, fallbacks and member groups per network",
    handler: async () => ({ data: await deps.networks.list() }),
  });
}
