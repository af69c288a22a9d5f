import { t as T } from "elysia";
import { AppError } from "../../../core/errors.ts";
import type { WorkloadAuth } from "../../workload/workload-auth.ts";
import type { RouteTable } from "../route-table.ts";

/**
 * Cross-network messaging belongs to a message module; until one is loaded its routes exist (so
 * plugins get a clear answer instead of a 404) and say so.
 */
function notLoaded(): never {
  throw new AppError(
    "MODULE_NOT_LOADED",
    "cross-network messaging needs the message module, which is not loaded",
    {
      module: "messages",
    },
  );
}

const Id = T.String({ minLength: 1, maxLength: 128 });

export function pluginMessageRoutes(table: RouteTable, deps: { auth: WorkloadAuth }): void {
  table.add({
    method: "POST",
    path: "/api/plugin/message/send",
    access: "workload",
    guard: deps.auth.guard({ sequenced: true }),
    tag: "plugin",
    summary: "Send a message to a player anywhere on the network (message module; 503 when not loaded)",
    body: T.Object(
      {
        fromUuid: T.String({ format: "uuid" }),
        fromName: T.String({ minLength: 1, maxLength: 32 }),
        toUuid: T.String({ format: "uuid" }),
        toName: T.String({ minLength: 1, maxLength: 32 }),
        content: T.String({ minLength: 1, maxLength: 4096 }),
        replyToId: T.Optional(Id),
      },
      { additionalProperties: false },
    ),
    response: "none",
    handler: notLoaded,
  });
}

export function proxyMessageRoutes(table: RouteTable, deps: { auth: WorkloadAuth }): void {
  table
    .add({
      method: "GET",
      path: "/api/proxy/messages/pending",
      access: "workload",
      guard: deps.auth.guard({ sequenced: false }),
      tag: "proxy",
      summary: "Messages waiting for players on this proxy (message module; 503 when not loaded)",
      response: "none",
      handler: notLoaded,
    })
    .add({
      method: "POST",
      path: "/api/proxy/messages/:id/ack",
      access: "workload",
      guard: deps.auth.guard({ sequenced: true }),
      tag: "proxy",
      summary: "A pending message was delivered (message module; 503 when not loaded)",
      params: T.Object({ id: Id }),
      response: "none",
      handler: notLoaded,
    });
}
