import { t as T } from "elysia";
import { AppError } from "../../../core/errors.ts";
import { canonicalUuid, EDITIONS, toPlayerView } from "../../players/player-info.ts";
import type { PlayerSessions, WorkloadSource } from "../../players/player-sessions.ts";
import type { PlayerTransfers } from "../../players/player-transfers.ts";
import { type TransferIntent, toTransferView } from "../../players/transfer-intents.ts";
import type { WorkloadAuth } from "../../workload/workload-auth.ts";
import { DataOf, StatusAnswer } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";
import { PendingTransfer, PlayerView, TransferView } from "./player-routes.ts";

export interface WorkloadPlayerDeps {
  auth: WorkloadAuth;
  players: PlayerSessions;
  transfers: PlayerTransfers;
}

const PlayerJoin = T.Object(
  {
    uuid: T.String({ format: "uuid" }),
    name: T.String({ minLength: 1, maxLength: 32 }),
    /** accepted for compatibility; the token's group is the one recorded */
    group: T.Optional(T.String({ maxLength: 64 })),
    edition: T.Optional(T.Union(EDITIONS.map((e) => T.Literal(e)))),
  },
  { additionalProperties: false },
);
const PlayerLeave = T.Object(
  { uuid: T.String({ format: "uuid" }), name: T.Optional(T.String({ maxLength: 32 })) },
  { additionalProperties: false },
);
// Bad UUIDs are 400 (the product's contract), not schema errors: checked in the service.
const PlayerRef = T.String({ maxLength: 64 });

/** Join, leave and the online list, under `/api/plugin` or `/api/proxy`; `kind` says which. */
export function workloadPlayerRoutes(
  table: RouteTable,
  prefix: string,
  kind: WorkloadSource["kind"],
  deps: WorkloadPlayerDeps,
): void {
  const { auth, players } = deps;
  const tag = prefix.slice(5);
  const source = (request: Request): WorkloadSource => ({ kind, ...auth.identity(request) });
  table
    .add({
      method: "POST",
      path: `${prefix}/player-join`,
      response: T.Object({ status: T.Literal("ok"), player: PlayerView }),
      access: "workload",
      guard: auth.guard({ sequenced: true }),
      tag,
      summary: kind === "proxy" ? "A player connected through this proxy" : "A player joined this server",
      body: PlayerJoin,
      handler: async ({ request, body }) => {
        const player = await players.join(source(request), {
          uuid: canonicalUuid(body.uuid),
          name: body.name,
          ...(body.edition ? { edition: body.edition } : {}),
        });
        return { status: "ok", player: toPlayerView(player) };
      },
    })
    .add({
      method: "POST",
      path: `${prefix}/player-leave`,
      response: StatusAnswer("ok", "unchanged"),
      access: "workload",
      guard: auth.guard({ sequenced: true }),
      tag,
      summary:
        kind === "proxy"
          ? "A player disconnected from this proxy (ends their session)"
          : "A player left this server (ignored once they are on another one)",
      body: PlayerLeave,
      handler: async ({ request, body }) => {
        const changed = await players.leave(source(request), canonicalUuid(body.uuid));
        return { status: changed ? "ok" : "unchanged" };
      },
    })
    .add({
      method: "GET",
      path: `${prefix}/players`,
      response: DataOf(PlayerView),
      access: "workload",
      guard: auth.guard({ sequenced: false }),
      tag,
      summary: "Every online player of the network",
      handler: async () => ({ data: (await players.registry.list()).map(toPlayerView) }),
    });
}

/** `/api/plugin/transfer*`: a server asks for one of its players to be moved. */
export function pluginTransferRoutes(table: RouteTable, deps: WorkloadPlayerDeps): void {
  const { auth, transfers } = deps;
  const accepted = (set: { status?: number | string }, intent: TransferIntent) => {
    set.status = 202;
    return { status: "pending", transfer: toTransferView(intent) };
  };
  table
    .add({
      method: "POST",
      path: "/api/plugin/transfer",
      response: PendingTransfer,
      status: 202,
      access: "workload",
      guard: auth.guard({ sequenced: true }),
      tag: "plugin",
      summary: "Move a player on this server to a RUNNING instance (carried out by their proxy)",
      body: T.Object(
        { playerUuid: PlayerRef, targetInstanceId: T.String({ minLength: 1, maxLength: 128 }) },
        { additionalProperties: false },
      ),
      handler: async ({ request, body, set }) =>
        accepted(
          set,
          await transfers.toInstance(
            auth.identity(request).instanceId,
            body.playerUuid,
            body.targetInstanceId,
          ),
        ),
    })
    .add({
      method: "POST",
      path: "/api/plugin/transfer-to-group",
      response: PendingTransfer,
      status: 202,
      access: "workload",
      guard: auth.guard({ sequenced: true }),
      tag: "plugin",
      summary: "Move a player on this server to the least-loaded RUNNING instance of a group",
      body: T.Object(
        { playerUuid: PlayerRef, group: T.String({ minLength: 1, maxLength: 64 }) },
        { additionalProperties: false },
      ),
      handler: async ({ request, body, set }) =>
        accepted(
          set,
          await transfers.toGroup(auth.identity(request).instanceId, body.playerUuid, body.group),
        ),
    });
}

/** `/api/proxy/pending-transfers` and `transfer-ack`: the proxy's side of a transfer. */
export function proxyTransferRoutes(table: RouteTable, deps: WorkloadPlayerDeps): void {
  const { auth, transfers } = deps;
  table
    .add({
      method: "GET",
      path: "/api/proxy/pending-transfers",
      response: DataOf(TransferView),
      access: "workload",
      guard: auth.guard({ sequenced: false }),
      tag: "proxy",
      summary: "Transfers this proxy has yet to carry out, oldest first (?proxyId must be this proxy)",
      query: T.Object(
        { proxyId: T.Optional(T.String({ minLength: 1, maxLength: 128 })) },
        { additionalProperties: false },
      ),
      handler: async ({ request, query }) => {
        const { instanceId } = auth.identity(request);
        if (query.proxyId !== undefined && query.proxyId !== instanceId) {
          throw new AppError("FORBIDDEN", "a proxy may only read its own pending transfers");
        }
        return { data: (await transfers.pending(instanceId)).map(toTransferView) };
      },
    })
    .add({
      method: "POST",
      path: "/api/proxy/transfer-ack/:uuid",
      response: StatusAnswer("acknowledged"),
      access: "workload",
      guard: auth.guard({ sequenced: true }),
      tag: "proxy",
      summary: "The transfer of this player is done (or abandoned): drop the intent",
      params: T.Object({ uuid: PlayerRef }),
      handler: async ({ request, params }) => {
        await transfers.acknowledge(auth.identity(request).instanceId, params.uuid);
        return { status: "acknowledged" };
      },
    });
}
