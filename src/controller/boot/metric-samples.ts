import type { DurableStore } from "../../store/port.ts";
import type { GroupService } from "../groups/group-service.ts";
import type { SessionRegistry } from "../grpc/session-registry.ts";
import type { InstanceWiring } from "../instances/wiring.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { NodeService } from "../nodes/node-service.ts";
import { countOpenDrains } from "../scheduler/loop/index.ts";
import type { WorkloadServices } from "../workload/wiring.ts";

/** The gauges read at scrape time: counts the services already keep, nothing sampled on a timer. */
export function registerMetricSamples(
  metrics: Metrics,
  sources: {
    store: DurableStore;
    groups: GroupService;
    sessions: SessionRegistry;
    nodes: NodeService;
    instances: InstanceWiring;
    workload: WorkloadServices;
  },
): void {
  const { store, groups, sessions, nodes, instances, workload } = sources;
  metrics.sample("groups", async () => (await groups.list(1, 1)).total);
  metrics.sample("daemonSessions", () => sessions.size);
  metrics.sample("nodes", () => nodes.countConnected());
  metrics.sample("instances", () => instances.instances.count({ state: "RUNNING" }));
  metrics.sample("crashes", () => instances.crashes.count());
  metrics.sample("players", () => workload.players.registry.count());
  metrics.sample("pendingTransfers", () => workload.intents.count());
  metrics.sample("startRetries", () => instances.lifecycle.retries.count());
  metrics.sample("nodeDrains", () => countOpenDrains(store));
}
