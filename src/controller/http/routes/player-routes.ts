import { t as T } from "elysia";
import { JourneyEntry, PendingTransfer, PlayerView, TransferView } from "../../../api/players.ts";
import { AppError } from "../../../core/errors.ts";
import { canonicalUuid, isPlayerUuid, type PlayerInfo, toPlayerView } from "../../players/player-info.ts";
import { type PlayerJourney, toJourneyView } from "../../players/player-journey.ts";
import type { PlayerRegistry } from "../../players/player-registry.ts";
import type { PlayerTransfers } from "../../players/player-transfers.ts";
import { toTransferView } from "../../players/transfer-intents.ts";
import { pageOf, pagingQuery } from "../paging.ts";
import { DataOf, Paged } from "../response-schemas.ts";
import type { RouteTable } from "../route-table.ts";

export { PendingTransfer, PlayerView, TransferView };

export interface PlayerRouteDeps {
  players: { registry: PlayerRegistry };
  /** players only servers' list pings know of (see players/pinged-players.ts), given the reported ones */
  pinged?: (reported: readonly PlayerInfo[]) => Promise<PlayerInfo[]>;
  transfers: PlayerTransfers;
  journey: PlayerJourney;
}

const JOURNEY_DEFAULT_LIMIT = 50;
const JOURNEY_MAX_LIMIT = 500;

// Bad UUIDs are 400 (the product's contract), not schema errors: checked by hand.
const PlayerParams = T.Object({ id: T.String({ maxLength: 64 }) });

function playerUuid(id: string): string {
  if (!isPlayerUuid(id)) throw new AppError("BAD_REQUEST", `"${id}" is not a UUID`);
  return canonicalUuid(id);
}

/** `?limit`: a positive integer, capped rather than refused above the maximum. */
function journeyLimit(value: string | undefined): number {
  if (value === undefined || value === "") return JOURNEY_DEFAULT_LIMIT;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new AppError("BAD_REQUEST", `limit must be a positive integer (got "${value}")`);
  }
  return Math.min(Number(value), JOURNEY_MAX_LIMIT);
}

/** `?since`: an ISO-8601 time or epoch milliseconds. */
function journeySince(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const ms = /^\d+$/.test(value)
    ? Number(value)
    : /^\d{4}-\d{2}-\d{2}/.test(value)
      ? Date.parse(value)
      : Number.NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new AppError(
      "BAD_REQUEST",
      `since must be an ISO-8601 time or epoch milliseconds (got "${value}")`,
    );
  }
  return ms;
}

/** `/api/v1/players`: the online players, their journey, and operator transfers. */
export function playerRoutes(table: RouteTable, deps: PlayerRouteDeps): void {
  const { registry } = deps.players;
  /** Plugin-reported players, and those only a list ping shows; longest connected first. */
  const online = async (): Promise<PlayerInfo[]> => {
    const reported = await registry.list();
    if (!deps.pinged) return reported;
    return [...reported, ...(await deps.pinged(reported))].sort(
      (a, b) => a.connectedAt - b.connectedAt || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0),
    );
  };
  table
    .add({
      method: "GET",
      path: "/api/v1/players",
      response: Paged(PlayerView),
      access: "players.view",
      tag: "players",
      summary: "Online players, longest connected first",
      query: pagingQuery(500),
      handler: async ({ query }) => pageOf((await online()).map(toPlayerView), query),
    })
    .add({
      method: "GET",
      path: "/api/v1/players/:id",
      response: PlayerView,
      access: "players.view",
      tag: "players",
      summary: "One online player (400 for a malformed UUID, 404 when not online)",
      params: PlayerParams,
      handler: async ({ params }) => {
        const uuid = playerUuid(params.id);
        const player = (await registry.get(uuid)) ?? (await online()).find((p) => p.uuid === uuid);
        if (!player) throw new AppError("NOT_FOUND", `player ${params.id} is not online`);
        return toPlayerView(player);
      },
    })
    .add({
      method: "GET",
      path: "/api/v1/players/:id/journey",
      response: DataOf(JourneyEntry),
      access: "players.view",
      tag: "players",
      summary: "A player's journey (joins, switches, transfers, leaves), newest first",
      params: PlayerParams,
      query: T.Object(
        {
          limit: T.Optional(T.String({ maxLength: 16, description: "default 50, at most 500" })),
          since: T.Optional(T.String({ maxLength: 40, description: "ISO-8601 time or epoch ms" })),
        },
        { additionalProperties: false },
      ),
      handler: async ({ params, query }) => {
        const uuid = playerUuid(params.id);
        const limit = journeyLimit(query.limit);
        const since = journeySince(query.since);
        const entries = await deps.journey.history(uuid, {
          limit,
          ...(since !== undefined ? { since } : {}),
        });
        return { data: entries.map(toJourneyView) };
      },
    })
    .add({
      method: "POST",
      path: "/api/v1/players/:id/transfer",
      response: PendingTransfer,
      status: 202,
      access: "players.transfer",
      tag: "players",
      summary: "Move a player to a RUNNING instance; their proxy carries it out (202)",
      params: PlayerParams,
      body: T.Object(
        { targetInstanceId: T.String({ minLength: 1, maxLength: 128 }) },
        { additionalProperties: false },
      ),
      handler: async ({ params, body, set, audit }) => {
        const { intent, from } = await deps.transfers.byOperator(params.id, body.targetInstanceId);
        await audit({
          action: "player.transfer",
          resourceType: "player",
          resourceId: intent.playerUuid,
          details: { fromInstanceId: from, targetInstanceId: intent.targetInstanceId },
        });
        set.status = 202;
        return { status: "pending", transfer: toTransferView(intent) };
      },
    });
}
