import { t as T } from "elysia";
import { AppError } from "../../../core/errors.ts";
import { INSTANCE_STATES, isTerminalState } from "../../../core/lifecycle/index.ts";
import { RESOURCE_NAME_PATTERN } from "../../../core/names.ts";
import type { RoleService } from "../../auth/role-service.ts";
import { SSE_HEADERS } from "../../events/sse-stream.ts";
import type { SseTickets } from "../../events/sse-tickets.ts";
import type { ConsoleBuffer } from "../../instances/console-buffer.ts";
import type { GroupStarter } from "../../instances/group-starter.ts";
import { toInstanceView } from "../../instances/instance-doc.ts";
import type { InstanceService } from "../../instances/instance-service.ts";
import type { StoreInstanceLifecycle } from "../../instances/store-instance-lifecycle.ts";
import { type LeaseGateOptions, withLease } from "../../lease-gate.ts";
import { listEnvelope, pageParams } from "../paging.ts";
import { AnyObject, DataOf, Nullable, NullableIso, Paged, StatusAnswer } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

/** An instance record as the API shows it (toInstanceView). */
export const InstanceView = T.Object({
  id: T.String(),
  group: T.String(),
  nodeId: T.String(),
  state: T.Union(INSTANCE_STATES.map((s) => T.Literal(s))),
  port: T.Integer(),
  playerCount: T.Integer({ minimum: 0 }),
  maxPlayers: Nullable(T.Integer()),
  playerSample: T.Array(T.String()),
  planHash: T.String(),
  uptimeMs: T.Number({ minimum: 0 }),
  startedAt: NullableIso,
  createdAt: NullableIso,
  stateChangedAt: NullableIso,
  reason: Nullable(T.String()),
  lastCrashId: Nullable(T.String()),
  startError: Nullable(T.Object({ code: T.String(), message: T.String(), disposition: T.String() })),
});

const Id = T.Object({ id: T.String({ pattern: "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$" }) });
const GroupName = T.Object({ name: T.String({ pattern: RESOURCE_NAME_PATTERN }) });
const encoder = new TextEncoder();

export interface InstanceRouteDeps {
  instances: InstanceService;
  lifecycle: StoreInstanceLifecycle;
  starter: GroupStarter;
  console: ConsoleBuffer;
  tickets: SseTickets;
  roles: RoleService;
  lease: LeaseGateOptions;
  keepOpen(request: Request): void;
}

/** `/api/v1/services/*` (instances) and `POST /groups/{name}/start`. */
export function instanceRoutes(table: RouteTable, deps: InstanceRouteDeps): void {
  const { instances, lifecycle } = deps;
  const stop = (id: string, force: boolean, reason: string) =>
    instances
      .require(id)
      .then((doc) =>
        withLease(deps.lease, `group:${doc.group}`, (fence) =>
          lifecycle.stop({ instanceId: id, reason, fence, force }),
        ),
      );
  table
    .add({
      method: "GET",
      path: "/api/v1/services",
      response: Paged(InstanceView),
      access: "instances.view",
      tag: "instances",
      summary: "List instances; filter by group, node and state",
      query: T.Object(
        {
          page: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
          pageSize: T.Optional(T.Integer({ minimum: 1, maximum: 500, default: 50 })),
          group: T.Optional(T.String({ maxLength: 64 })),
          node: T.Optional(T.String({ maxLength: 128 })),
          state: T.Optional(T.Union(INSTANCE_STATES.map((s) => T.Literal(s)))),
        },
        { additionalProperties: false },
      ),
      handler: async ({ query }) => {
        const { page, pageSize } = pageParams(query);
        const { data, total } = await instances.list({ ...query, page, pageSize });
        return listEnvelope(data.map(toInstanceView), page, pageSize, total);
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/services/:id",
      response: InstanceView,
      access: "instances.view",
      tag: "instances",
      summary: "One instance",
      params: Id,
      handler: async ({ params }) => toInstanceView(await instances.require(params.id)),
    })
    .add({
      method: "DELETE",
      path: "/api/v1/services/:id",
      response: StatusAnswer("deleted"),
      access: "instances.delete",
      tag: "instances",
      summary: "Remove the record of a STOPPED, CRASHED or SCHEDULED instance",
      params: Id,
      handler: async ({ params, audit }) => {
        // Under the group's lease, like every other instance write: the state is read again inside
        // it, so a start racing this delete cannot lose its record to a stale check.
        const doc = await instances.require(params.id);
        await withLease(deps.lease, `group:${doc.group}`, async (fence) => {
          const current = await instances.require(doc._id);
          if (!isTerminalState(current.state) && current.state !== "SCHEDULED") {
            throw new AppError("CONFLICT", `instance ${current._id} is ${current.state}; stop it first`);
          }
          await instances.remove(current._id, fence);
        });
        await audit({ action: "instance.delete", resourceType: "instance", resourceId: doc._id });
        return { status: "deleted" };
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/services/:id/composition",
      response: AnyObject,
      access: "instances.view",
      tag: "instances",
      summary: "The composition plan the instance was started from",
      params: Id,
      handler: async ({ params }) => {
        const { _id, _rev: _r, _fence: _f, ...plan } = await lifecycle.plan(params.id);
        return plan;
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/services/:id/stop",
      response: StatusAnswer("stopping"),
      access: "instances.stop",
      tag: "instances",
      summary: "Graceful stop: stop command, then SIGTERM and SIGKILL after the grace period",
      params: Id,
      handler: async ({ params, caller, audit }) => {
        await stop(params.id, false, `stopped by ${caller.username}`);
        await audit({ action: "instance.stop", resourceType: "instance", resourceId: params.id });
        return { status: "stopping" };
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/services/:id/force-stop",
      response: StatusAnswer("stopping"),
      access: "instances.stop",
      tag: "instances",
      summary: "Kill the instance at once (SIGKILL)",
      params: Id,
      handler: async ({ params, caller, audit }) => {
        await stop(params.id, true, `force-stopped by ${caller.username}`);
        await audit({ action: "instance.force-stop", resourceType: "instance", resourceId: params.id });
        return { status: "stopping" };
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/services/:id/command",
      response: StatusAnswer("sent"),
      access: "instances.command",
      tag: "instances",
      summary: "Write a console command to the instance's stdin",
      params: Id,
      body: T.Object({ command: T.String({ minLength: 1, maxLength: 4096 }) }),
      handler: async ({ params, body, audit }) => {
        const doc = await instances.require(params.id);
        if (isTerminalState(doc.state)) throw new AppError("CONFLICT", `instance ${doc._id} is ${doc.state}`);
        if (!lifecycle.sendCommand(doc, body.command)) {
          throw new AppError("NODE_NOT_CONNECTED", `node ${doc.node} is not connected to this controller`, {
            node: doc.node,
          });
        }
        await audit({
          action: "instance.command",
          resourceType: "instance",
          resourceId: doc._id,
          details: { command: body.command },
        });
        return { status: "sent" };
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/services/:id/console/history",
      response: DataOf(T.Object({ line: T.String(), timestampMs: T.Number() })),
      access: "instances.console",
      tag: "instances",
      summary: "Console lines this controller received, oldest first",
      params: Id,
      query: T.Object({
        since: T.Optional(T.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
        until: T.Optional(T.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
        limit: T.Optional(T.Integer({ minimum: 1, maximum: 5000, default: 500 })),
      }),
      handler: async ({ params, query }) => {
        await instances.require(params.id);
        return { data: deps.console.history(params.id, { ...query, limit: query.limit ?? 500 }) };
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/services/:id/console",
      rawType: "text/event-stream",
      access: "ticket",
      tag: "instances",
      summary: "Server-sent console lines (buffered history first); authenticate with ?ticket=",
      raw: true,
      params: Id,
      query: T.Object({ ticket: T.Optional(T.String({ maxLength: 128 })) }),
      handler: async ({ params, query, request }) => {
        const holder = await deps.tickets.redeem(query.ticket);
        if (!holder)
          throw new AppError("UNAUTHORIZED", "the stream ticket is invalid, expired or already used");
        if (!(await deps.roles.permissionsOf(holder.role)).has("instances.console")) {
          throw new AppError("FORBIDDEN", "insufficient permissions", { required: "instances.console" });
        }
        deps.keepOpen(request);
        let unwatch: () => void = () => undefined;
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            const send = (r: { line: string; timestampMs: number }) =>
              controller.enqueue(encoder.encode(`event: console\ndata: ${JSON.stringify(r)}\n\n`));
            for (const record of deps.console.history(params.id, { limit: 500 })) send(record);
            unwatch = deps.console.watch(params.id, send);
            request.signal.addEventListener("abort", () => {
              unwatch();
              controller.close();
            });
          },
          cancel() {
            unwatch();
          },
        });
        return new Response(stream, { headers: SSE_HEADERS });
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/groups/:name/start",
      response: T.Object({
        status: T.Literal("placed"),
        instances: T.Array(T.Object({ id: T.String(), node: T.String(), port: T.Integer() })),
      }),
      status: 202,
      access: "groups.start",
      tag: "groups",
      summary: "Place ?count instances of the group now (best node by the scheduler's placement)",
      params: GroupName,
      query: T.Object({ count: T.Optional(T.Integer({ minimum: 1, maximum: 100, default: 1 })) }),
      handler: async ({ params, query, audit, set }) => {
        const placed = await deps.starter.start(params.name, query.count ?? 1);
        await audit({
          action: "group.start",
          resourceType: "group",
          resourceId: params.name,
          details: { instances: placed.map((p) => p.instanceId) },
        });
        set.status = 202;
        return {
          status: "placed",
          instances: placed.map((p) => ({ id: p.instanceId, node: p.node, port: p.port })),
        };
      },
    });
}
