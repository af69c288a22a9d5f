import { Maintenance, MaintenanceUpdate } from "../../../api/maintenance.ts";
import type { ControllerConfig } from "../../../config/controller-config.ts";
import { redactSecrets, redactUri } from "../../../log/redact.ts";
import type { MaintenanceService } from "../../maintenance-service.ts";
import { AnyObject } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

export function settingsRoutes(
  table: RouteTable,
  maintenance: MaintenanceService,
  config: ControllerConfig,
): void {
  table
    .add({
      method: "GET",
      path: "/api/v1/maintenance",
      response: Maintenance,
      access: "groups.view",
      tag: "maintenance",
      summary: "Global maintenance switch",
      handler: () => maintenance.get(),
    })
    .add({
      method: "PUT",
      path: "/api/v1/maintenance",
      response: Maintenance,
      access: "groups.update",
      tag: "maintenance",
      summary: "Turn global maintenance on or off",
      body: MaintenanceUpdate,
      handler: async ({ body, audit }) => {
        const current = await maintenance.get();
        const { before, after } = await maintenance.set({
          enabled: body.enabled,
          message: body.message ?? current.message,
        });
        await audit({
          action: "maintenance.update",
          resourceType: "maintenance",
          resourceId: "global",
          before,
          after,
        });
        return after;
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/system/settings",
      response: AnyObject,
      access: "system.settings",
      tag: "system",
      summary: "The effective controller configuration, secrets masked",
      handler: () => {
        const masked = redactSecrets(config) as ControllerConfig;
        return {
          ...masked,
          database: { ...masked.database, uri: redactUri(config.database.uri) },
          ...(config.redis ? { redis: { ...config.redis, uri: redactUri(config.redis.uri) } } : {}),
        };
      },
    });
}
