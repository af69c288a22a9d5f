import { systemClock } from "../../core/clock.ts";
import { AppError, isAppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { EventPublisher } from "../events/event-types.ts";
import type { InstanceService } from "../instances/instance-service.ts";
import { type Edition, type PlayerInfo, seatDelta } from "./player-info.ts";
import { joinStep, leaveStep, type PlayerJourney } from "./player-journey.ts";
import type { PlayerChange, PlayerRegistry } from "./player-registry.ts";

/** The instance reporting: a proxy (players connect through it) or a backend server. */
export interface WorkloadSource {
  kind: "proxy" | "server";
  instanceId: string;
  group: string;
}

export interface JoinReport {
  uuid: string;
  name: string;
  edition?: Edition;
}

const COUNTER_ATTEMPTS = 10;

/**
 * Turns join/leave reports into the player registry and the instances' `players` counters (the
 * load DYNAMIC scaling reads). A counter moves only when the registry record actually gained or
 * lost that instance, so a repeated report, or a server's late leave after the proxy already
 * removed the player, counts nothing twice.
 */
export class PlayerSessions {
  constructor(
    private readonly deps: {
      registry: PlayerRegistry;
      instances: InstanceService;
      events: EventPublisher;
      log: Logger;
      /** the journey log; absent where only the live list matters */
      journey?: PlayerJourney;
      now?: () => number;
    },
  ) {}

  get registry(): PlayerRegistry {
    return this.deps.registry;
  }

  async join(source: WorkloadSource, report: JoinReport): Promise<PlayerInfo> {
    const now = (this.deps.now ?? systemClock.now)();
    const change = await this.deps.registry.edit(report.uuid, (current) => {
      const base: PlayerInfo = current ?? {
        uuid: report.uuid,
        name: report.name,
        instanceId: null,
        group: null,
        proxyInstanceId: null,
        connectedAt: now,
        edition: report.edition ?? "JAVA",
      };
      const next: PlayerInfo = { ...base, name: report.name, edition: report.edition ?? base.edition };
      if (source.kind === "proxy") next.proxyInstanceId = source.instanceId;
      else Object.assign(next, { instanceId: source.instanceId, group: source.group });
      return JSON.stringify(next) === JSON.stringify(current) ? undefined : next;
    });
    await this.settle(change, source, "PLAYER_CONNECTED");
    await this.deps.journey?.record(change.after!, joinStep(source, change));
    return change.after!;
  }

  /**
   * A proxy's leave ends the player's session; a server's leave only takes the player off that
   * server, and only while they are still on it (the join on the next server may come first).
   */
  async leave(source: WorkloadSource, uuid: string): Promise<boolean> {
    const change = await this.deps.registry.edit(uuid, (current) => {
      if (!current) return undefined;
      if (source.kind === "proxy") return current.proxyInstanceId === source.instanceId ? null : undefined;
      if (current.instanceId !== source.instanceId) return undefined;
      return current.proxyInstanceId === null ? null : { ...current, instanceId: null, group: null };
    });
    await this.settle(change, source, "PLAYER_DISCONNECTED");
    if (change.before) {
      await this.deps.journey?.record(change.before, leaveStep(source.instanceId, source.group, change));
    }
    return change.before !== change.after;
  }

  /** An instance stopped or crashed: nobody is on it any more, whatever its plugin last said. */
  async instanceGone(instanceId: string): Promise<void> {
    for (const player of await this.deps.registry.list()) {
      if (player.instanceId !== instanceId && player.proxyInstanceId !== instanceId) continue;
      const change = await this.deps.registry.edit(player.uuid, (current) => {
        if (!current) return undefined;
        if (current.proxyInstanceId === instanceId) return null;
        if (current.instanceId !== instanceId) return undefined;
        return current.proxyInstanceId === null ? null : { ...current, instanceId: null, group: null };
      });
      await this.recount(change);
      if (change.before) await this.deps.journey?.record(change.before, leaveStep(instanceId, null, change));
    }
  }

  private async settle(
    change: PlayerChange,
    source: WorkloadSource,
    type: "PLAYER_CONNECTED" | "PLAYER_DISCONNECTED",
  ): Promise<void> {
    if (change.before === change.after) return;
    await this.recount(change);
    const player = (change.after ?? change.before)!;
    await this.deps.events
      .publish({
        type,
        group: source.group,
        payload: { uuid: player.uuid, name: player.name, instanceId: source.instanceId, group: source.group },
      })
      // Events are best effort: the bus logs a failed append, and the session change is stored.
      .catch(() => undefined);
  }

  private async recount(change: PlayerChange): Promise<void> {
    for (const [instanceId, delta] of seatDelta(change.before, change.after)) {
      await this.adjust(instanceId, delta).catch((err) =>
        this.deps.log.warn({ instanceId, delta, err }, "player count not updated"),
      );
    }
  }

  /**
   * Read, add, write if nobody wrote in between: the store has no atomic increment. Deliberately
   * unfenced: the plugin's join/leave calls hold no lease; the `ifRev` compare-and-set is the guard
   * (a concurrent writer makes this attempt retry, never lose its delta or undo the other's).
   */
  private async adjust(instanceId: string, delta: number): Promise<void> {
    const { instances } = this.deps;
    for (let attempt = 0; attempt < COUNTER_ATTEMPTS; attempt++) {
      const doc = await instances.get(instanceId);
      if (!doc) return;
      try {
        await instances.patch(
          instanceId,
          { players: Math.max(0, (doc.players ?? 0) + delta) },
          { ifRev: doc._rev ?? 0 },
        );
        return;
      } catch (err) {
        if (!isAppError(err, "CONFLICT")) throw err;
      }
    }
    throw new AppError(
      "CONFLICT",
      `instance ${instanceId} kept changing; gave up after ${COUNTER_ATTEMPTS} attempts`,
    );
  }
}
