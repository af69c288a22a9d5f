import type { PlayerView } from "../../api/players.ts";
/** How the player's client talks to the network; Bedrock players come through Geyser. */
export type Edition = "JAVA" | "BEDROCK";
export const EDITIONS: readonly Edition[] = ["JAVA", "BEDROCK"];

/**
 * One online player, as every controller sees it. Live state only: built from the proxies' and
 * servers' join/leave reports, gone when the player leaves, never written to the durable store.
 */
export interface PlayerInfo {
  uuid: string;
  name: string;
  /** the backend server the player is on, null while only the proxy knows them */
  instanceId: string | null;
  group: string | null;
  /** the proxy the player connected through, null for a direct connection */
  proxyInstanceId: string | null;
  /** epoch ms of the first join report */
  connectedAt: number;
  edition: Edition;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isPlayerUuid(value: string): boolean {
  return UUID.test(value);
}

/** One spelling per player: Java prints UUIDs in lower case, but clients may not. */
export function canonicalUuid(value: string): string {
  return value.toLowerCase();
}

/** The REST shape (the product's PlayerDto). */
export function toPlayerView(player: PlayerInfo): PlayerView {
  return {
    id: player.uuid,
    name: player.name,
    currentInstance: player.instanceId,
    currentGroup: player.group,
    proxyInstance: player.proxyInstanceId,
    connectedSince: new Date(player.connectedAt).toISOString(),
    edition: player.edition,
  };
}

/**
 * How many players each instance carries because of this record: one on the backend, one on the
 * proxy. The difference between two records is how the instances' `players` counters move.
 */
export function seatsOf(player: PlayerInfo | null): Map<string, number> {
  const seats = new Map<string, number>();
  if (!player) return seats;
  for (const id of [player.instanceId, player.proxyInstanceId]) {
    if (id) seats.set(id, (seats.get(id) ?? 0) + 1);
  }
  return seats;
}

export function seatDelta(before: PlayerInfo | null, after: PlayerInfo | null): Map<string, number> {
  const delta = seatsOf(after);
  for (const [id, n] of seatsOf(before)) delta.set(id, (delta.get(id) ?? 0) - n);
  for (const [id, n] of delta) if (n === 0) delta.delete(id);
  return delta;
}
