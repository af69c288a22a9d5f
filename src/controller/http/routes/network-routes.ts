import { t as T } from "elysia";
import { NetworkSchema, NetworkView } from "../../../api/networks.ts";
import { RESOURCE_NAME_PATTERN } from "../../../core/names.ts";
import type { NetworkService } from "../../networks/network-service.ts";
import { pageOf, pagingQuery } from "../paging.ts";
import { Paged, StatusAnswer } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

export { NetworkView };

const NetworkName = T.Object({ name: T.String({ pattern: RESOURCE_NAME_PATTERN }) });

export function networkRoutes(table: RouteTable, networks: NetworkService): void {
  table
    .add({
      method: "GET",
      path: "/api/v1/networks",
      response: Paged(NetworkView),
      access: "networks.view",
      tag: "networks",
      summary: "List network compositions",
      query: pagingQuery(500),
      handler: async ({ query }) => {
        return pageOf(await networks.list(), query);
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/networks",
      response: NetworkView,
      status: 201,
      access: "networks.create",
      tag: "networks",
      summary: "Create a network composition",
      body: NetworkSchema,
      handler: async ({ body, set, audit }) => {
        const network = await networks.create(body);
        await audit({
          action: "network.create",
          resourceType: "network",
          resourceId: network.name,
          after: network,
        });
        set.status = 201;
        return network;
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/networks/:name",
      response: NetworkView,
      access: "networks.view",
      tag: "networks",
      summary: "One network composition",
      params: NetworkName,
      handler: ({ params }) => networks.get(params.name),
    })
    .add({
      method: "PUT",
      path: "/api/v1/networks/:name",
      response: NetworkView,
      access: "networks.update",
      tag: "networks",
      summary: "Replace a network composition",
      params: NetworkName,
      body: NetworkSchema,
      handler: async ({ params, body, audit }) => {
        const { before, after } = await networks.replace(params.name, body);
        await audit({
          action: "network.update",
          resourceType: "network",
          resourceId: params.name,
          before,
          after,
        });
        return after;
      },
    })
    .add({
      method: "DELETE",
      path: "/api/v1/networks/:name",
      response: StatusAnswer("DELETED"),
      access: "networks.delete",
      tag: "networks",
      summary: "Delete a network composition",
      params: NetworkName,
      handler: async ({ params, audit }) => {
        const before = await networks.delete(params.name);
        await audit({ action: "network.delete", resourceType: "network", resourceId: params.name, before });
        return { status: "DELETED" };
      },
    });
}
