import type { Coordination, Unsubscribe } from "../../coord/port.ts";
import type { Logger } from "../../log/logger.ts";
import { BRIDGED_TYPES, type BusEvent, type EventType } from "./event-types.ts";

/** Pub/sub channel per event family (`prexor:v1:events:<family>`). */
function familyOf(type: EventType): string | undefined {
  if (!BRIDGED_TYPES.has(type)) return undefined;
  return type.slice(0, type.indexOf("_")).toLowerCase();
}

const FAMILY_CHANNELS = [...new Set([...BRIDGED_TYPES].map((t) => familyOf(t)!))];
/**
 * Sequence-only notices for the types the bridge does not carry. They tell other controllers'
 * SSE hubs "the shared buffer grew", so a stream client on B sees an event published on A at
 * once instead of at the next safety poll; no payload travels and no local subscriber fires.
 */
const NOTICE_CHANNEL = "sse";

interface BridgeEnvelope {
  origin: string;
  event?: BusEvent;
  sequence?: number;
}

export interface EventBridgeOptions {
  coord: Coordination;
  controllerId: string;
  log: Logger;
  /** a bridged event from another controller */
  onRemoteEvent(event: BusEvent): void;
  /** another controller appended `sequence` to the shared buffer */
  onRemoteSequence(sequence: number): void;
}

/**
 * Cross-controller event bridge over coordination pub/sub. Envelopes carry the origin controller
 * id and a controller drops its own (every subscriber also hears its own publishes). Pub/sub is
 * at-most-once: a controller that misses a message only has a stale cache until the next event,
 * and SSE clients still get everything through the shared replay buffer.
 */
export class EventBridge {
  private unsubscribes: Unsubscribe[] = [];

  constructor(private readonly options: EventBridgeOptions) {}

  async start(): Promise<void> {
    const { coord } = this.options;
    for (const channel of [...FAMILY_CHANNELS, NOTICE_CHANNEL]) {
      this.unsubscribes.push(await coord.subscribe(channel, (message) => this.receive(message)));
    }
  }

  /** Sends a locally published event to the other controllers (bridged types) or a notice. */
  async forward(event: BusEvent): Promise<void> {
    const family = familyOf(event.type);
    const envelope: BridgeEnvelope =
      family !== undefined
        ? { origin: this.options.controllerId, event }
        : { origin: this.options.controllerId, sequence: event.sequence };
    if (family === undefined && event.sequence === 0) return; // nothing buffered, nothing to announce
    try {
      await this.options.coord.publish(family ?? NOTICE_CHANNEL, JSON.stringify(envelope));
    } catch (err) {
      this.options.log.warn({ err, type: event.type }, "could not bridge event to other controllers");
    }
  }

  private receive(message: string): void {
    let envelope: BridgeEnvelope;
    try {
      envelope = JSON.parse(message) as BridgeEnvelope;
    } catch {
      // not an envelope of ours (another writer on the channel): ignore it
      return;
    }
    if (envelope.origin === this.options.controllerId) return;
    if (envelope.event && typeof envelope.event.type === "string") {
      // Only the listed types are accepted, whatever a peer (or a newer version) sends.
      if (!BRIDGED_TYPES.has(envelope.event.type)) return;
      this.options.onRemoteEvent(envelope.event);
    } else if (typeof envelope.sequence === "number" && envelope.sequence > 0) {
      this.options.onRemoteSequence(envelope.sequence);
    }
  }

  async stop(): Promise<void> {
    // Stopping: a subscription whose connection is already gone has nothing left to undo.
    for (const unsubscribe of this.unsubscribes.splice(0)) await unsubscribe().catch(() => {});
  }
}
