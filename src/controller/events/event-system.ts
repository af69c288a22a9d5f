import type { Coordination } from "../../coord/port.ts";
import type { Logger } from "../../log/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { EventBus } from "./event-bus.ts";
import { SseHub } from "./sse-hub.ts";
import { SseTickets } from "./sse-tickets.ts";

export interface EventSystemOptions {
  coord: Coordination;
  controllerId: string;
  log: Logger;
  metrics: Metrics;
  sse: { maxClients: number; replayBufferSize: number; keepAliveMs: number };
}

/**
 * The bus, the SSE hub it feeds and the ticket desk, wired together for boot.ts. Constructed only:
 * `start` reads the replay buffer's live edge and subscribes to the cluster's events.
 */
export interface EventSystem {
  bus: EventBus;
  hub: SseHub;
  tickets: SseTickets;
  coord: Coordination;
  log: Logger;
  replayBufferSize: number;
  start(): Promise<void>;
  /** Ends every open stream. Runs before the HTTP server stops, which would otherwise wait on them. */
  closeStreams(): void;
  stop(): Promise<void>;
}

export function createEventSystem(options: EventSystemOptions): EventSystem {
  const { coord, controllerId, log, metrics, sse } = options;
  const hub = new SseHub({ coord, log, maxClients: sse.maxClients, keepAliveMs: sse.keepAliveMs });
  const bus = new EventBus({ coord, controllerId, log, replayBufferSize: sse.replayBufferSize, sink: hub });
  metrics.sample("sseClients", () => hub.connected);
  metrics.sample("sseReplayBufferSize", () => hub.bufferedEvents());
  return {
    bus,
    hub,
    tickets: new SseTickets(coord),
    coord,
    log,
    replayBufferSize: sse.replayBufferSize,
    start: async () => {
      // The hub first: it must know the buffer's live edge before the first event is offered to it.
      await hub.start();
      await bus.start();
    },
    closeStreams: () => hub.stop(),
    stop: async () => {
      hub.stop();
      await bus.stop();
    },
  };
}
