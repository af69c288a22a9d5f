import type { Coordination } from "../../coord/port.ts";
import { AppError } from "../../core/errors.ts";
import type { PlayerInfo } from "./player-info.ts";

export interface PlayerChange {
  before: PlayerInfo | null;
  after: PlayerInfo | null;
}

/** A record edit: the new record, null to remove it, or undefined to leave it as it is. */
export type PlayerEdit = (current: PlayerInfo | null) => PlayerInfo | null | undefined;

const MAX_ATTEMPTS = 20;

/**
 * The online players, one coordination snapshot per player (`player:<uuid>`), so every
 * controller answers from the same list. Each edit is a compare-and-set on the stored text, so a
 * proxy's and a server's reports about the same player never overwrite each other.
 */
export class PlayerRegistry {
  constructor(private readonly coord: Coordination) {}

  async get(uuid: string): Promise<PlayerInfo | null> {
    return parse(await this.coord.getSnapshot("player", uuid));
  }

  async list(): Promise<PlayerInfo[]> {
    const players: PlayerInfo[] = [];
    for (const { value } of await this.coord.listSnapshots("player")) {
      const player = parse(value);
      if (player) players.push(player);
    }
    return players.sort((a, b) => a.connectedAt - b.connectedAt || a.uuid.localeCompare(b.uuid));
  }

  async count(): Promise<number> {
    return (await this.coord.listSnapshots("player")).length;
  }

  /** Applies `edit` atomically against concurrent edits; `before === after` when nothing changed. */
  async edit(uuid: string, edit: PlayerEdit): Promise<PlayerChange> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const raw = await this.coord.getSnapshot("player", uuid);
      const before = parse(raw);
      const after = edit(before);
      if (after === undefined) return { before, after: before };
      const next = after === null ? null : JSON.stringify(after);
      if (raw === null && next === null) return { before: null, after: null };
      if (await this.coord.swapSnapshot("player", uuid, raw, next)) return { before, after };
    }
    throw new AppError("CONFLICT", `player ${uuid} is being updated concurrently; retry`);
  }
}

function parse(raw: string | null): PlayerInfo | null {
  if (raw === null) return null;
  try {
    return JSON.parse(raw) as PlayerInfo;
  } catch {
    // an unreadable entry is treated as absent; the next report from the proxy rewrites it
    return null;
  }
}
