import { systemClock } from "../../core/clock.ts";
import { AppError } from "../../core/errors.ts";
import type { RoutingSource } from "../deployments/routing-view.ts";
import type { EventPublisher } from "../events/event-types.ts";
import type { GroupService } from "../groups/group-service.ts";
import type { InstanceDoc } from "../instances/instance-doc.ts";
import type { InstanceService } from "../instances/instance-service.ts";
import { canonicalUuid, isPlayerUuid, type PlayerInfo } from "./player-info.ts";
import type { PlayerJourney } from "./player-journey.ts";
import type { PlayerRegistry } from "./player-registry.ts";
import type { TransferIntent, TransferIntents } from "./transfer-intents.ts";

/**
 * Transfer requests from workloads and operators. The controller does not move players itself: it
 * records a durable intent for the player's proxy, which polls for it, connects the player and acks.
 */
export class PlayerTransfers {
  constructor(
    private readonly deps: {
      registry: PlayerRegistry;
      intents: TransferIntents;
      instances: InstanceService;
      groups: GroupService;
      events: EventPublisher;
      /** the journey log; absent where only the intents matter */
      journey?: PlayerJourney;
      /** BLUE_GREEN routing: a transfer never targets the side routing is away from */
      routing?: RoutingSource;
      now?: () => number;
    },
  ) {}

  /** `requester` is the instance asking; it may only move players that are on it. */
  async toInstance(requester: string, playerUuid: string, targetInstanceId: string): Promise<TransferIntent> {
    const player = await this.player(playerUuid, requester);
    return this.record(player, await this.runningTarget(targetInstanceId));
  }

  /**
   * An operator may move any online player; the intent is the same one a plugin's request makes,
   * so the proxy cannot tell them apart. Moving a player to where they already are is refused.
   */
  async byOperator(
    playerUuid: string,
    targetInstanceId: string,
  ): Promise<{ intent: TransferIntent; from: string | null }> {
    const player = await this.player(playerUuid);
    const target = await this.runningTarget(targetInstanceId);
    if (player.instanceId === target._id) {
      throw new AppError("CONFLICT", `player ${player.uuid} is already on ${target._id}`);
    }
    return { intent: await this.record(player, target), from: player.instanceId };
  }

  private async runningTarget(targetInstanceId: string): Promise<InstanceDoc> {
    const target = await this.deps.instances.get(targetInstanceId);
    if (!target) {
      throw new AppError("INSTANCE_NOT_FOUND", `instance "${targetInstanceId}" not found`);
    }
    if (target.state !== "RUNNING") {
      throw new AppError("CONFLICT", `instance ${target._id} is ${target.state}, not RUNNING`);
    }
    return target;
  }

  /** To the RUNNING instance of the group with the fewest players (not the one the player is on). */
  async toGroup(requester: string, playerUuid: string, group: string): Promise<TransferIntent> {
    const player = await this.player(playerUuid, requester);
    await this.deps.groups.get(group);
    const target = await this.leastLoaded(group, player.instanceId ?? "");
    if (!target) throw new AppError("CONFLICT", `no RUNNING instance of group "${group}" to transfer to`);
    return this.record(player, target);
  }

  /**
   * A draining instance's players are queued for the least-loaded RUNNING instance of its group,
   * else of `fallbackGroup`. Players without a proxy cannot be moved and are counted as stranded:
   * they leave when the drain's timeout stops the instance.
   */
  async evacuate(
    from: InstanceDoc,
    fallbackGroup: string | null,
  ): Promise<{ queued: number; stranded: number }> {
    const players = (await this.deps.registry.list()).filter((p) => p.instanceId === from._id);
    if (players.length === 0) return { queued: 0, stranded: 0 };
    const target =
      (await this.leastLoaded(from.group, from._id)) ??
      (fallbackGroup ? await this.leastLoaded(fallbackGroup, from._id) : undefined);
    let queued = 0;
    for (const player of players) {
      if (!target || !player.proxyInstanceId) continue;
      await this.record(player, target);
      queued++;
    }
    return { queued, stranded: players.length - queued };
  }

  private async leastLoaded(group: string, except: string): Promise<InstanceDoc | undefined> {
    const routable = (await this.deps.routing?.filter()) ?? (() => true);
    const running = (await this.deps.instances.findMany({ group, state: "RUNNING" })).filter(
      (i) => i._id !== except && routable(i),
    );
    // Newest revision first: a rolling deployment drains old instances one after another, and a player
    // moved to another outdated one would be moved again at its turn.
    return running.sort(
      (a, b) =>
        (b.deploymentRevision ?? 0) - (a.deploymentRevision ?? 0) ||
        (a.players ?? 0) - (b.players ?? 0) ||
        a._id.localeCompare(b._id),
    )[0];
  }

  /** What the proxy still has to carry out. */
  pending(proxyInstanceId: string): Promise<TransferIntent[]> {
    return this.deps.intents.forProxy(proxyInstanceId);
  }

  /** The proxy carried the transfer out (or gave up on it): the intent is done. */
  async acknowledge(proxyInstanceId: string, playerUuid: string): Promise<void> {
    if (!isPlayerUuid(playerUuid)) throw new AppError("BAD_REQUEST", `"${playerUuid}" is not a UUID`);
    const intent = await this.deps.intents.get(canonicalUuid(playerUuid));
    if (!intent) throw new AppError("NOT_FOUND", `no pending transfer for player ${playerUuid}`);
    if (intent.proxyInstanceId !== proxyInstanceId) {
      throw new AppError("FORBIDDEN", `the transfer of ${intent.playerUuid} belongs to another proxy`);
    }
    await this.deps.intents.delete(intent.playerUuid);
  }

  /** The online player; with a `requester`, only if they are on that instance. */
  private async player(playerUuid: string, requester?: string): Promise<PlayerInfo> {
    if (!isPlayerUuid(playerUuid)) throw new AppError("BAD_REQUEST", `"${playerUuid}" is not a UUID`);
    const player = await this.deps.registry.get(canonicalUuid(playerUuid));
    if (!player) throw new AppError("NOT_FOUND", `player ${playerUuid} is not online`);
    if (requester !== undefined && player.instanceId !== requester && player.proxyInstanceId !== requester) {
      throw new AppError("FORBIDDEN", `player ${player.uuid} is not on instance ${requester}`);
    }
    return player;
  }

  private async record(player: PlayerInfo, target: InstanceDoc): Promise<TransferIntent> {
    if (!player.proxyInstanceId) {
      throw new AppError("CONFLICT", `player ${player.uuid} is not connected through a proxy`);
    }
    const intent = await this.deps.intents.put({
      playerUuid: player.uuid,
      targetInstanceId: target._id,
      proxyInstanceId: player.proxyInstanceId,
      createdAt: (this.deps.now ?? systemClock.now)(),
    });
    await this.deps.events
      .publish({
        type: "PLAYER_TRANSFER",
        group: target.group,
        payload: {
          uuid: player.uuid,
          name: player.name,
          fromInstanceId: player.instanceId ?? "",
          toInstanceId: target._id,
        },
      })
      // Events are best effort: the bus logs a failed append, and the intent is already stored.
      .catch(() => undefined);
    await this.deps.journey?.record(player, {
      eventType: "TRANSFER",
      fromInstanceId: player.instanceId,
      toInstanceId: target._id,
      group: target.group,
    });
    return intent;
  }
}
