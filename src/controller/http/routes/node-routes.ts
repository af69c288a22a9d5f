import { t as T } from "elysia";
import { systemClock } from "../../../core/clock.ts";
import { AppError } from "../../../core/errors.ts";
import type { EventPublisher } from "../../events/event-types.ts";
import type { CertRevocations, RevocationDoc } from "../../nodes/cert-revocations.ts";
import { NODE_STATES, type NodeDoc, toNodeView } from "../../nodes/node-doc.ts";
import type { NodeService } from "../../nodes/node-service.ts";
import type { NodeShutdowns } from "../../nodes/node-shutdowns.ts";
import { listEnvelope, pageParams } from "../paging.ts";
import { Iso, Nullable, NullableIso, Paged, StatusAnswer } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

const NodeView = T.Object({
  id: T.String(),
  state: T.Union(NODE_STATES.map((s) => T.Literal(s))),
  connected: T.Boolean(),
  cordoned: T.Boolean(),
  drain: Nullable(
    T.Object({
      requestedAt: NullableIso,
      deadlineAt: NullableIso,
      shutdown: T.Boolean(),
      kickMessage: T.String(),
      requestedBy: T.String(),
    }),
  ),
  shutdownRequestedAt: NullableIso,
  labels: T.Record(T.String(), T.String()),
  capacity: T.Object({
    cpuUsage: T.Number(),
    availableCpus: T.Number(),
    totalMemoryMb: T.Number(),
    usedMemoryMb: T.Number(),
    totalDiskMb: T.Number(),
    freeDiskMb: T.Number(),
  }),
  usedPorts: T.Array(T.Integer()),
  instanceCount: T.Integer({ minimum: 0 }),
  instances: T.Array(
    T.Object({ instanceId: T.String(), group: T.String(), state: T.String(), port: T.Integer() }),
  ),
  address: T.String(),
  lastSeen: NullableIso,
  connectedAt: NullableIso,
  disconnectedAt: NullableIso,
  disconnectReason: Nullable(T.String()),
  controllerId: Nullable(T.String()),
  daemonVersion: T.String(),
  protocolVersion: T.Integer(),
  host: T.Record(T.String(), T.Union([T.String(), T.Number()])),
  enrolledAt: NullableIso,
  certificate: T.Object({ serial: T.String(), notAfter: NullableIso, revoked: T.Boolean() }),
});

const NodeId = T.Object({ id: T.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$" }) });
const DAY_MS = 86_400_000;
/** When a certificate's expiry is unknown, revoke for its maximum lifetime. */
const FALLBACK_REVOCATION_MS = 365 * DAY_MS;
export const DEFAULT_KICK_MESSAGE = "This server is shutting down for maintenance.";

export interface NodeRouteDeps {
  nodes: NodeService;
  revocations: CertRevocations;
  events: EventPublisher;
  shutdowns: Pick<NodeShutdowns, "request">;
  /** brings the scheduler's next tick forward, so a drain starts without waiting for the interval */
  scheduler?: { nudge(): void };
  now?: () => number;
}

function revocationView(doc: RevocationDoc) {
  return {
    nodeId: doc.nodeId,
    kind: doc.kind,
    value: doc.value,
    revokedAt: new Date(doc.revokedAt).toISOString(),
    revokedBy: doc.revokedBy,
    expiresAt: new Date(doc.expiresAt).toISOString(),
  };
}

export function nodeRoutes(table: RouteTable, deps: NodeRouteDeps): void {
  const { nodes, revocations } = deps;
  const now = deps.now ?? systemClock.now;
  const viewPair = (pair: { before: NodeDoc; after: NodeDoc }) => ({
    before: toNodeView(pair.before),
    after: toNodeView(pair.after),
  });

  table
    .add({
      method: "GET",
      path: "/api/v1/nodes",
      response: Paged(NodeView),
      access: "nodes.view",
      tag: "nodes",
      summary: "List nodes with state, capacity and last heartbeat",
      query: T.Object(
        {
          page: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
          pageSize: T.Optional(T.Integer({ minimum: 1, maximum: 500, default: 50 })),
          state: T.Optional(T.Union(NODE_STATES.map((s) => T.Literal(s)))),
        },
        { additionalProperties: false },
      ),
      handler: async ({ query }) => {
        const { page, pageSize } = pageParams(query);
        const { data, total } = await nodes.list({ state: query.state, page, pageSize });
        return listEnvelope(data.map(toNodeView), page, pageSize, total);
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/nodes/revoked-certs",
      response: T.Object({
        data: T.Array(
          T.Object({
            nodeId: T.String(),
            kind: T.String(),
            value: T.String(),
            revokedAt: Iso,
            revokedBy: T.String(),
            expiresAt: Iso,
          }),
        ),
        total: T.Integer({ minimum: 0 }),
      }),
      access: "nodes.revoke-cert",
      tag: "nodes",
      summary: "Node certificates currently revoked (by serial and by node id)",
      handler: async () => {
        const data = (await revocations.list()).map(revocationView);
        return { data, total: data.length };
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/nodes/:id",
      response: NodeView,
      access: "nodes.view",
      tag: "nodes",
      summary: "One node",
      params: NodeId,
      handler: async ({ params }) => toNodeView(await nodes.require(params.id)),
    })
    .add({
      method: "POST",
      path: "/api/v1/nodes/:id/cordon",
      response: NodeView,
      access: "nodes.drain",
      tag: "nodes",
      summary: "Stop placing new instances on the node (running ones stay)",
      params: NodeId,
      handler: async ({ params, audit }) => {
        const pair = viewPair(await nodes.setCordoned(params.id, true));
        await audit({ action: "node.cordon", resourceType: "node", resourceId: params.id, ...pair });
        return pair.after;
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/nodes/:id/uncordon",
      response: NodeView,
      access: "nodes.drain",
      tag: "nodes",
      summary: "Allow placement on the node again",
      params: NodeId,
      handler: async ({ params, audit }) => {
        const pair = viewPair(await nodes.setCordoned(params.id, false));
        await audit({ action: "node.uncordon", resourceType: "node", resourceId: params.id, ...pair });
        return pair.after;
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/nodes/:id/drain",
      response: NodeView,
      access: "nodes.drain",
      tag: "nodes",
      summary:
        "Cordon the node and empty it: empty instances stop, occupied ones drain until their players " +
        "leave; at the timeout the rest are stopped; then the daemon shuts down (shutdown=true) or the " +
        "node stays cordoned",
      params: NodeId,
      query: T.Object(
        {
          shutdown: T.Optional(T.Boolean({ default: true })),
          timeout: T.Optional(T.Integer({ minimum: 0, maximum: 86_400, default: 60 })),
          kickMessage: T.Optional(T.String({ minLength: 1, maxLength: 256 })),
        },
        { additionalProperties: false },
      ),
      handler: async ({ params, query, caller, audit }) => {
        const requestedAt = now();
        const timeout = query.timeout ?? 60;
        const shutdown = query.shutdown ?? true;
        const kickMessage = query.kickMessage ?? DEFAULT_KICK_MESSAGE;
        const pair = viewPair(
          await nodes.startDrain(params.id, {
            requestedAt,
            deadlineAt: requestedAt + timeout * 1000,
            shutdown,
            kickMessage,
            requestedBy: caller.username,
          }),
        );
        await audit({ action: "node.drain", resourceType: "node", resourceId: params.id, ...pair });
        await deps.events.publish({
          type: "NODE_DRAIN_REQUESTED",
          payload: {
            nodeId: params.id,
            shutdownAfterDrain: shutdown,
            drainTimeoutSeconds: timeout,
            kickMessage,
            timestamp: new Date(requestedAt).toISOString(),
          },
        });
        deps.scheduler?.nudge();
        return pair.after;
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/nodes/:id/undrain",
      response: NodeView,
      access: "nodes.drain",
      tag: "nodes",
      summary: "Call off a drain in progress; the node takes placements again (409 once it completed)",
      params: NodeId,
      handler: async ({ params, audit }) => {
        const pair = viewPair(await nodes.stopDrain(params.id));
        await audit({ action: "node.undrain", resourceType: "node", resourceId: params.id, ...pair });
        deps.scheduler?.nudge();
        return pair.after;
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/nodes/:id/shutdown",
      response: T.Object({ status: T.Literal("SHUTDOWN_REQUESTED"), delivery: T.Unknown() }),
      status: 202,
      access: "nodes.shutdown",
      tag: "nodes",
      summary: "Tell the node's daemon to shut down now, without draining (409 when not connected)",
      params: NodeId,
      handler: async ({ params, caller, audit, set }) => {
        const delivery = await deps.shutdowns.request(
          params.id,
          `shutdown requested by ${caller.username}`,
          caller.username,
        );
        await audit({
          action: "node.shutdown",
          resourceType: "node",
          resourceId: params.id,
          details: { delivery },
        });
        set.status = 202;
        return { status: "SHUTDOWN_REQUESTED", delivery };
      },
    })
    .add({
      method: "DELETE",
      path: "/api/v1/nodes/:id",
      response: StatusAnswer("DELETED"),
      access: "nodes.drain",
      tag: "nodes",
      summary: "Forget a disconnected node (409 while connected; revoke its certificate to keep it out)",
      params: NodeId,
      handler: async ({ params, audit }) => {
        const before = toNodeView(await nodes.delete(params.id));
        await audit({ action: "node.delete", resourceType: "node", resourceId: params.id, before });
        return { status: "DELETED" };
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/nodes/:id/revoke-cert",
      response: NodeView,
      access: "nodes.revoke-cert",
      tag: "nodes",
      summary: "Revoke the node's certificate: its stream closes now and reconnects are refused",
      params: NodeId,
      query: T.Object(
        { ttlDays: T.Optional(T.Integer({ minimum: 1, maximum: 3650 })) },
        { additionalProperties: false },
      ),
      handler: async ({ params, query, caller, audit }) => {
        const node = await nodes.require(params.id);
        if (node.certSerial === "") {
          throw new AppError("ILLEGAL_STATE", `node "${params.id}" has no recorded certificate to revoke`);
        }
        const at = now();
        const expiresAt =
          query.ttlDays !== undefined
            ? at + query.ttlDays * DAY_MS
            : node.certNotAfter > at
              ? node.certNotAfter
              : at + FALLBACK_REVOCATION_MS;
        await revocations.revoke({
          nodeId: node._id,
          serial: node.certSerial,
          cn: node._id,
          expiresAt,
          by: caller.username,
        });
        const pair = viewPair(await nodes.setCertRevoked(node._id, true));
        await audit({
          action: "node.revoke-cert",
          resourceType: "node",
          resourceId: node._id,
          ...pair,
          details: { serial: node.certSerial, expiresAt: new Date(expiresAt).toISOString() },
        });
        return pair.after;
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/nodes/:id/unrevoke-cert",
      response: NodeView,
      access: "nodes.revoke-cert",
      tag: "nodes",
      summary: "Lift a certificate revocation",
      params: NodeId,
      handler: async ({ params, audit }) => {
        const node = await nodes.require(params.id);
        await revocations.unrevoke({ nodeId: node._id, serial: node.certSerial, cn: node._id });
        const pair = viewPair(await nodes.setCertRevoked(node._id, false));
        await audit({
          action: "node.unrevoke-cert",
          resourceType: "node",
          resourceId: node._id,
          ...pair,
          details: { serial: node.certSerial },
        });
        return pair.after;
      },
    });
}
