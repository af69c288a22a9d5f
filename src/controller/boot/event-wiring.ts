import type { ControllerConfig } from "../../config/controller-config.ts";
import { DependencyWatch } from "../dependency-watch.ts";
import { createEventSystem, type EventSystem } from "../events/event-system.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { BootBase } from "./base.ts";
import type { Steps } from "./start-sequence.ts";

/**
 * The event bus with its SSE hub and tickets, and the watch that publishes the store's and
 * coordination's reachability on it. Constructed only: the event system starts under the readiness
 * phase "event system", the dependency watch right after it.
 */
export function wireEvents(
  base: BootBase,
  deps: {
    metrics: Metrics;
    sse: ControllerConfig["sse"];
  },
  steps: Steps,
): EventSystem {
  const { store, coord, controllerId, log } = base;
  const { metrics } = deps;
  const eventSystem = createEventSystem({ coord, controllerId, log, metrics, sse: deps.sse });
  steps.add(
    "event system",
    async () => {
      await eventSystem.start();
      return () => eventSystem.stop();
    },
    "event system",
  );
  const dependencies = new DependencyWatch({
    probes: [
      { name: "store", ping: () => store.ping() },
      { name: "coordination", ping: () => coord.ping() },
    ],
    events: eventSystem.bus,
    log,
    clock: base.clock,
    controllerId,
    gauge: (dependency, up) => metrics.dependency(dependency, up),
  });
  steps.add("dependency watch", () => {
    dependencies.start();
    return () => dependencies.stop();
  });
  return eventSystem;
}
