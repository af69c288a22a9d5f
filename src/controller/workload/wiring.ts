import type { Coordination } from "../../coord/port.ts";
import type { Logger } from "../../log/logger.ts";
import type { DurableStore } from "../../store/port.ts";
import { RoutingView } from "../deployments/routing-view.ts";
import type { EventPublisher } from "../events/event-types.ts";
import type { GroupService } from "../groups/group-service.ts";
import type { InstanceService } from "../instances/instance-service.ts";
import type { PlayerJourney } from "../players/player-journey.ts";
import { PlayerRegistry } from "../players/player-registry.ts";
import { PlayerSessions } from "../players/player-sessions.ts";
import { PlayerTransfers } from "../players/player-transfers.ts";
import { TransferIntents } from "../players/transfer-intents.ts";
import { InstanceMetrics } from "./instance-metrics.ts";

/** What the workload (plugin/proxy) API needs beyond the instance side, wired for boot.ts. */
export interface WorkloadServices {
  players: PlayerSessions;
  transfers: PlayerTransfers;
  intents: TransferIntents;
  journey: PlayerJourney;
  instanceMetrics: InstanceMetrics;
  /** BLUE_GREEN routing: which instances proxies may send players to */
  routing: RoutingView;
  /** Starts the cleanup on instance ends and the evacuation on drains; returns how to stop it. */
  start(): () => void;
}

/** Constructed only: the instance listeners are attached by `start`. */
export function wireWorkloadServices(deps: {
  coord: Coordination;
  store: DurableStore;
  instances: InstanceService;
  groups: GroupService;
  events: EventPublisher;
  /** built before the instance side, whose record pruner keeps its retention */
  journey: PlayerJourney;
  log: Logger;
  now: () => number;
}): WorkloadServices {
  const log = deps.log.child({ component: "players" });
  const registry = new PlayerRegistry(deps.coord);
  const intents = new TransferIntents(deps.store);
  const { instances, events, groups, journey, now } = deps;
  const players = new PlayerSessions({ registry, instances, events, log, journey, now });
  const routing = new RoutingView(deps.store);
  const transfers = new PlayerTransfers({
    registry,
    intents,
    instances,
    groups,
    events,
    journey,
    routing,
    now,
  });
  const instanceMetrics = new InstanceMetrics(deps.coord);
  const start = () => {
    // A stopped instance's plugin never reports its players leaving; its transfers can never happen.
    const stopForgetting = deps.instances.onTerminal((doc) => {
      const failed = (what: string) => (err: Error) =>
        log.warn({ instanceId: doc._id, err }, `could not clear ${what} of a stopped instance`);
      void players.instanceGone(doc._id).catch(failed("the players"));
      void intents.dropFor(doc._id).catch(failed("the transfers"));
      void instanceMetrics.forget(doc._id).catch(failed("the metrics"));
    });
    // Node drains: the players of an instance going DRAINING are queued for another instance.
    const stopEvacuating = deps.instances.onDraining((doc) => {
      void deps.groups
        .get(doc.group)
        .then((group) => transfers.evacuate(doc, group.fallbackGroup ?? null))
        .then((moved) => {
          if (moved.queued + moved.stranded > 0)
            log.info({ instanceId: doc._id, ...moved }, "draining instance's players queued for transfer");
        })
        .catch((err: Error) =>
          log.warn({ instanceId: doc._id, err }, "could not queue a draining instance's players"),
        );
    });
    return () => {
      stopForgetting();
      stopEvacuating();
    };
  };
  return { players, transfers, intents, journey, instanceMetrics, routing, start };
}
