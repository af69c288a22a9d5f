import type { JourneyEntry } from "../../api/players.ts";
import { systemClock } from "../../core/clock.ts";
import type { Logger } from "../../log/logger.ts";
import type { CollectionName } from "../../store/collections.ts";
import type { Doc, DurableStore, Filter } from "../../store/port.ts";
import type { EventPublisher } from "../events/event-types.ts";
import type { PlayerInfo } from "./player-info.ts";
import type { PlayerChange } from "./player-registry.ts";

export const PLAYER_JOURNEY = "player_journey" satisfies CollectionName;

export type JourneyEventType = "JOIN" | "LEAVE" | "TRANSFER" | "SERVER_SWITCH";

/**
 * `player_journey`: where a player went, one append-only record per step. Unlike the live player
 * list this is durable history, kept for the retention the record pruner enforces.
 */
export interface JourneyDoc extends Doc {
  playerUuid: string;
  playerName: string;
  eventType: JourneyEventType;
  fromInstanceId: string | null;
  toInstanceId: string | null;
  group: string | null;
  /** epoch ms */
  timestamp: number;
  /** cluster-wide write order: breaks ties between steps recorded in the same millisecond */
  seq: number;
}

export type JourneyStep = Pick<JourneyDoc, "eventType" | "fromInstanceId" | "toInstanceId" | "group">;

/** The REST and event shape (the product's PlayerJourneyEntry). */
export function toJourneyView(doc: JourneyDoc): JourneyEntry {
  return {
    playerUuid: doc.playerUuid,
    playerName: doc.playerName,
    eventType: doc.eventType,
    fromInstanceId: doc.fromInstanceId,
    toInstanceId: doc.toInstanceId,
    group: doc.group,
    timestamp: new Date(doc.timestamp).toISOString(),
  };
}

/** Who reported a join or leave (the shape of PlayerSessions' WorkloadSource). */
interface Reporter {
  kind: "proxy" | "server";
  instanceId: string;
  group: string;
}

/**
 * What a join report did to the player, as a journey step; null when it moved them nowhere (a
 * repeated report, a name change). A backend join while on another backend is a switch; any other
 * arrival on an instance is a join.
 */
export function joinStep(source: Reporter, change: PlayerChange): JourneyStep | null {
  const { before } = change;
  if (before === change.after) return null;
  const arrived = { toInstanceId: source.instanceId, group: source.group };
  if (source.kind === "proxy") {
    return before?.proxyInstanceId === source.instanceId
      ? null
      : { eventType: "JOIN", fromInstanceId: null, ...arrived };
  }
  if (before?.instanceId === source.instanceId) return null;
  if (before?.instanceId)
    return { eventType: "SERVER_SWITCH", fromInstanceId: before.instanceId, ...arrived };
  return { eventType: "JOIN", fromInstanceId: null, ...arrived };
}

/**
 * A leave that changed the record: off that server, or (proxy leave, proxy gone) out of the
 * network. `group` is the leaving instance's, when known.
 */
export function leaveStep(
  instanceId: string,
  group: string | null,
  change: PlayerChange,
): JourneyStep | null {
  const { before } = change;
  if (!before || before === change.after) return null;
  // When the session ends, the backend they were on says more than the proxy does.
  const fromBackend = change.after === null && before.instanceId !== null;
  return {
    eventType: "LEAVE",
    fromInstanceId: fromBackend ? before.instanceId : instanceId,
    toInstanceId: null,
    group: fromBackend || before.instanceId === instanceId ? before.group : group,
  };
}

export interface JourneyQuery {
  limit: number;
  /** epoch ms; only steps at or after it */
  since?: number;
}

/** Writes and reads the journey log; a failed write is logged, never fails the report behind it. */
export class PlayerJourney {
  constructor(
    private readonly deps: {
      store: DurableStore;
      events: EventPublisher;
      log: Logger;
      now?: () => number;
    },
  ) {}

  private get col() {
    return this.deps.store.collection<JourneyDoc>(PLAYER_JOURNEY);
  }

  /** Retention: removes the journey steps older than `cutoffMs`; returns how many went. */
  pruneBefore(cutoffMs: number): Promise<number> {
    return this.col.deleteMany({ timestamp: { $lt: cutoffMs } });
  }

  async record(player: Pick<PlayerInfo, "uuid" | "name">, step: JourneyStep | null): Promise<void> {
    if (!step) return;
    try {
      const seq = await this.deps.store.nextSequence(PLAYER_JOURNEY);
      const doc = await this.col.insert({
        _id: `j${seq}`,
        playerUuid: player.uuid,
        playerName: player.name,
        ...step,
        timestamp: (this.deps.now ?? systemClock.now)(),
        seq,
      });
      await this.deps.events
        .publish({
          type: "PLAYER_JOURNEY",
          ...(doc.group ? { group: doc.group } : {}),
          payload: { entry: toJourneyView(doc) },
        })
        // Events are best effort: the bus logs a failed append, and the journey entry is stored.
        .catch(() => undefined);
    } catch (err) {
      this.deps.log.warn(
        { player: player.uuid, eventType: step.eventType, err },
        "journey step not recorded",
      );
    }
  }

  /** Newest first. */
  history(playerUuid: string, query: JourneyQuery): Promise<JourneyDoc[]> {
    const filter: Filter = { playerUuid };
    if (query.since !== undefined) filter.timestamp = { $gte: query.since };
    return this.col.find(filter, {
      sort: [
        ["timestamp", -1],
        ["seq", -1],
      ],
      limit: query.limit,
    });
  }
}
