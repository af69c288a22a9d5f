import { type Static, Type as T } from "@sinclair/typebox";
import { Iso, Nullable } from "./schema-parts.ts";

/** An online player as the API shows it (`GET /players`, `GET /players/{id}`). */
export const PlayerView = T.Object({
  id: T.String(),
  name: T.String(),
  currentInstance: Nullable(T.String()),
  currentGroup: Nullable(T.String()),
  proxyInstance: Nullable(T.String()),
  connectedSince: Iso,
  edition: T.String(),
});
export type PlayerView = Static<typeof PlayerView>;

/** One step of a player's journey (`GET /players/{id}/journey`). */
export const JourneyEntry = T.Object({
  playerUuid: T.String(),
  playerName: T.String(),
  eventType: T.String(),
  fromInstanceId: Nullable(T.String()),
  toInstanceId: Nullable(T.String()),
  group: Nullable(T.String()),
  timestamp: Iso,
});
export type JourneyEntry = Static<typeof JourneyEntry>;

/** A transfer waiting for the player's proxy to carry it out. */
export const TransferView = T.Object({
  playerUuid: T.String(),
  targetInstanceId: T.String(),
  proxyInstanceId: T.String(),
  createdAt: Iso,
});
export type TransferView = Static<typeof TransferView>;

/** A transfer accepted (202): the player's proxy carries it out. */
export const PendingTransfer = T.Object({ status: T.Literal("pending"), transfer: TransferView });
export type PendingTransfer = Static<typeof PendingTransfer>;
