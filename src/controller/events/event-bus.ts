import type { Coordination } from "../../coord/port.ts";
import { systemClock } from "../../core/clock.ts";
import type { Logger } from "../../log/logger.ts";
import { EventBridge } from "./event-bridge.ts";
import { encodeStored } from "./event-record.ts";
import {
  type BusEvent,
  type CustomEventInput,
  type CustomEventPublisher,
  type EventInput,
  type EventPublisher,
  type EventType,
  isReservedEventType,
  STREAM_EXCLUDED,
} from "./event-types.ts";

export const DEFAULT_REPLAY_BUFFER_SIZE = 2048;

export type EventHandler<K extends EventType = EventType> = (event: BusEvent<K>) => void | Promise<void>;

export interface Subscription {
  unsubscribe(): void;
}

/** Where sequenced events go besides subscribers: the SSE hub, which needs them in order. */
export interface SequencedSink {
  /** an event with a buffer sequence, local or bridged */
  offer(event: BusEvent): void;
  /** the shared buffer grew to at least `sequence` (another controller published) */
  poke(sequence: number): void;
}

export interface EventBusOptions {
  coord: Coordination;
  controllerId: string;
  log: Logger;
  /** replay buffer length (the product keeps 2048) */
  replayBufferSize?: number;
  sink?: SequencedSink;
  /** false keeps events on this controller (unit tests of one bus) */
  bridge?: boolean;
  now?: () => number;
}

interface Registered {
  handler: EventHandler;
  where: ((event: BusEvent) => boolean) | undefined;
}

/**
 * The controller's event bus. publish() gives each event a sequence from the coordination
 * store's replay buffer (shared by every controller, kept by Valkey across restarts), hands it to
 * in-process subscribers, to the SSE hub, and over the bridge to other controllers.
 *
 * Subscribers run on a later microtask, each on its own: a handler that throws or rejects is
 * logged and never affects the publisher or the other handlers. Like the product's bus there is
 * no ordering promise between handlers; a single handler sees local events in publish order.
 */
export class EventBus implements EventPublisher, CustomEventPublisher {
  private readonly byType = new Map<string, Set<Registered>>();
  private readonly any = new Set<Registered>();
  private readonly bridge: EventBridge | undefined;
  private readonly bufferSize: number;
  private readonly now: () => number;
  private lastAppendWarning = 0;
  private suppressedAppendWarnings = 0;

  constructor(private readonly options: EventBusOptions) {
    this.bufferSize = options.replayBufferSize ?? DEFAULT_REPLAY_BUFFER_SIZE;
    this.now = options.now ?? systemClock.now;
    if (options.bridge !== false) {
      this.bridge = new EventBridge({
        coord: options.coord,
        controllerId: options.controllerId,
        log: options.log,
        onRemoteEvent: (event) => this.receiveRemote(event),
        onRemoteSequence: (sequence) => options.sink?.poke(sequence),
      });
    }
  }

  get controllerId(): string {
    return this.options.controllerId;
  }

  /** Joins the cross-controller bridge; call before anything publishes. */
  async start(): Promise<void> {
    await this.bridge?.start();
  }

  async stop(): Promise<void> {
    await this.bridge?.stop();
    this.byType.clear();
    this.any.clear();
  }

  /** Subscribes to one type, optionally narrowed by a predicate. */
  on<K extends EventType>(
    type: K,
    handler: EventHandler<K>,
    where?: (event: BusEvent<K>) => boolean,
  ): Subscription {
    let set = this.byType.get(type);
    if (!set) {
      set = new Set();
      this.byType.set(type, set);
    }
    return this.register(set, handler as EventHandler, where as Registered["where"]);
  }

  /** Subscribes to every event (catch-all). */
  onAny(handler: EventHandler, where?: (event: BusEvent) => boolean): Subscription {
    return this.register(this.any, handler, where);
  }

  async publish(input: EventInput): Promise<void> {
    await this.emit(input.type, input.group, input.payload);
  }

  /** Reaches catch-all subscribers and SSE clients; typed subscriptions never see it. */
  async publishCustom(input: CustomEventInput): Promise<void> {
    if (isReservedEventType(input.type)) throw new Error(`"${input.type}" is a built-in event type`);
    await this.emit(input.type, input.group, { source: input.source, payload: input.payload });
  }

  private async emit(type: string, group: string | undefined, payload: object): Promise<void> {
    const base = {
      type,
      timestamp: new Date(this.now()).toISOString(),
      origin: this.options.controllerId,
      ...(group !== undefined ? { group } : {}),
      // A copy, frozen: handlers share one object and must not see each other's edits.
      payload: Object.freeze({ ...payload }),
    } as Omit<BusEvent, "sequence">;
    let sequence = 0;
    if (!STREAM_EXCLUDED.has(type)) {
      try {
        sequence = await this.options.coord.appendEvent(encodeStored(base), this.bufferSize);
      } catch (err) {
        // The change the event reports has already happened; losing its SSE copy must not fail it.
        this.warnAppendFailed(err as Error, type);
      }
    }
    const event = Object.freeze({ ...base, sequence }) as BusEvent;
    this.dispatch(event);
    if (sequence > 0) this.options.sink?.offer(event);
    await this.bridge?.forward(event);
  }

  private receiveRemote(event: BusEvent): void {
    const frozen = Object.freeze({ ...event, payload: Object.freeze({ ...event.payload }) }) as BusEvent;
    this.dispatch(frozen);
    if (frozen.sequence > 0) this.options.sink?.offer(frozen);
  }

  private register(set: Set<Registered>, handler: EventHandler, where: Registered["where"]): Subscription {
    const entry: Registered = { handler, where };
    set.add(entry);
    return { unsubscribe: () => set.delete(entry) };
  }

  private dispatch(event: BusEvent): void {
    const typed = this.byType.get(event.type);
    if (typed) for (const entry of typed) this.run(entry, event);
    for (const entry of this.any) this.run(entry, event);
  }

  private run(entry: Registered, event: BusEvent): void {
    queueMicrotask(() => {
      try {
        if (entry.where && !entry.where(event)) return;
        const result = entry.handler(event);
        if (result instanceof Promise) result.catch((err) => this.handlerFailed(err, event));
      } catch (err) {
        this.handlerFailed(err, event);
      }
    });
  }

  private handlerFailed(err: unknown, event: BusEvent): void {
    this.options.log.error({ err, type: event.type, sequence: event.sequence }, "event handler failed");
  }

  /** One warning per 10 s while the buffer is unreachable, with a count of the ones held back. */
  private warnAppendFailed(err: Error, type: string): void {
    const now = this.now();
    if (now - this.lastAppendWarning < 10_000) {
      this.suppressedAppendWarnings++;
      return;
    }
    this.options.log.warn(
      { err, type, suppressed: this.suppressedAppendWarnings },
      "replay buffer unreachable; event delivered in-process only",
    );
    this.lastAppendWarning = now;
    this.suppressedAppendWarnings = 0;
  }
}
