import type { Coordination, ReplayWindow } from "../../coord/port.ts";
import { type Clock, systemClock, type TimerHandle } from "../../core/clock.ts";
import type { Logger } from "../../log/logger.ts";
import type { SequencedSink } from "./event-bus.ts";
import { decodeStored } from "./event-record.ts";
import { type BusEvent, STREAM_EXCLUDED } from "./event-types.ts";
import { SseClient, type StreamFilter } from "./sse-client.ts";
import { eventFrame } from "./sse-frames.ts";
import type { TicketHolder } from "./sse-tickets.ts";

export const DEFAULT_MAX_CLIENTS = 100;
export const DEFAULT_KEEP_ALIVE_MS = 15_000;
const DEFAULT_POLL_MS = 5_000;
const DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024;
const PAGE = 512;
const RETRY_MS = 1_000;

export interface SseHubOptions {
  coord: Coordination;
  log: Logger;
  maxClients?: number;
  keepAliveMs?: number;
  /**
   * How often, while clients are connected, the hub re-reads the shared buffer. Pub/sub notices
   * normally wake it at once; this only bounds the delay after a lost notice.
   */
  pollMs?: number;
  maxQueuedBytes?: number;
  now?: () => number;
  /** keep-alive, poll and retry timers (system clock when absent; `now` defaults to it too) */
  clock?: Clock;
}

export interface Admission {
  client: SseClient;
  /** events above this come live; the opener replays up to and including it */
  liveFrom: number;
}

/**
 * Fans events out to this controller's general-stream clients in strict sequence order.
 *
 * The hub keeps a cursor: the highest sequence it has fanned out. Events reach it from local
 * publishes and the bridge; an event right after the cursor goes out at once, anything else
 * (a gap, or a notice that another controller published) makes it read the shared replay buffer
 * from the cursor on. Because the buffer is the single source of order, clients on every
 * controller see the same sequence with no holes, whichever controller published.
 */
export class SseHub implements SequencedSink {
  private cursor = 0;
  private readonly clients = new Set<SseClient>();
  private pumping = false;
  private again = false;
  private keepAliveTimer: TimerHandle | undefined;
  private pollTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private stopped = false;
  private readonly maxClients: number;
  private readonly keepAliveMs: number;
  private readonly pollMs: number;
  private readonly maxQueuedBytes: number;
  private readonly now: () => number;
  private readonly clock: Clock;

  constructor(private readonly options: SseHubOptions) {
    this.maxClients = options.maxClients ?? DEFAULT_MAX_CLIENTS;
    this.keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.clock = options.clock ?? systemClock;
    this.now = options.now ?? this.clock.now;
  }

  /** Starts at the buffer's live edge: history is for clients that ask for it. */
  async start(): Promise<void> {
    this.cursor = (await this.window(0)).latestSeq;
  }

  get connected(): number {
    return this.clients.size;
  }

  get position(): number {
    return this.cursor;
  }

  /** Events currently held by the shared replay buffer. */
  async bufferedEvents(): Promise<number> {
    const w = await this.window(0);
    return w.oldestSeq > 0 ? w.latestSeq - w.oldestSeq + 1 : 0;
  }

  /**
   * Takes a connection if there is room. Synchronous, so the cap holds however many clients
   * arrive at once, and so no event can slip between the client's replay and its live feed.
   */
  admit(init: { holder: TicketHolder; filter: StreamFilter; position?: number }): Admission | null {
    if (this.stopped || this.clients.size >= this.maxClients) return null;
    const client = new SseClient({
      holder: init.holder,
      filter: init.filter,
      position: init.position ?? this.cursor,
      maxQueuedBytes: this.maxQueuedBytes,
      now: this.now,
      onClose: (c, reason) => this.detach(c, reason),
    });
    this.clients.add(client);
    if (this.clients.size === 1) {
      this.startTimers();
      // With nobody listening the hub only moves on offers; catch up on anything a lost notice hid.
      this.poke();
    }
    return { client, liveFrom: this.cursor };
  }

  offer(event: BusEvent): void {
    if (this.stopped || event.sequence <= this.cursor) return;
    if (!this.pumping && event.sequence === this.cursor + 1) this.deliver(event);
    else this.poke();
  }

  poke(_sequence?: number): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    void this.pump();
  }

  stop(): void {
    this.stopped = true;
    for (const client of [...this.clients]) client.close("controller shutting down");
    this.stopTimers();
    this.clock.clearTimeout(this.retryTimer);
  }

  private detach(client: SseClient, reason: string): void {
    if (!this.clients.delete(client)) return;
    this.options.log.debug({ user: client.holder.username, reason }, "event stream client left");
    if (this.clients.size === 0) this.stopTimers();
  }

  private deliver(event: BusEvent): void {
    this.cursor = event.sequence;
    if (this.clients.size === 0 || STREAM_EXCLUDED.has(event.type)) return;
    const frame = eventFrame(event);
    for (const client of this.clients) client.live(event, frame);
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.again = false;
        await this.drain();
      } while (this.again && !this.stopped);
    } catch (err) {
      this.options.log.warn({ err }, "cannot read the event replay buffer; retrying");
      this.retryTimer ??= this.clock.setTimeout(() => {
        this.retryTimer = undefined;
        this.poke();
      }, RETRY_MS);
    } finally {
      this.pumping = false;
    }
  }

  /** Reads the buffer from the cursor on and fans out what is there, page by page. */
  private async drain(): Promise<void> {
    for (;;) {
      const w = await this.window(PAGE);
      if (this.stopped) return;
      if (w.latestSeq < this.cursor) {
        // The buffer started over (a Valkey that lost its data): positions above it mean nothing.
        this.resyncAll(w, w.latestSeq, true);
        this.cursor = w.latestSeq;
        return;
      }
      // Sequences are appended contiguously (INCR and XADD in one script), so a first entry past
      // cursor + 1 proves the ones between were trimmed before we read them: more than a
      // buffer's worth arrived at once. (An empty read proves nothing: the three reads of a
      // window are not atomic, so `latestSeq` may already count an entry the range missed.)
      const first = w.events[0]?.seq;
      if (first !== undefined && first > this.cursor + 1) {
        this.resyncAll(w, first - 1, false);
        this.cursor = first - 1;
      }
      for (const entry of w.events) {
        if (entry.seq <= this.cursor) continue;
        const event = decodeStored(entry.seq, entry.payload);
        if (event) this.deliver(event);
        else this.cursor = entry.seq;
      }
      if (w.events.length < PAGE) return;
    }
  }

  private resyncAll(w: ReplayWindow, continueFrom: number, reset: boolean): void {
    this.options.log.warn(
      { cursor: this.cursor, oldest: w.oldestSeq, latest: w.latestSeq, reset },
      "live events fell out of the replay buffer before delivery; telling clients to resync",
    );
    const info = { earliestSequence: w.oldestSeq, latestSequence: w.latestSeq };
    for (const client of this.clients) client.resync(info, continueFrom, reset);
  }

  private window(limit: number): Promise<ReplayWindow> {
    return this.options.coord.eventsAfter(this.cursor, limit);
  }

  private startTimers(): void {
    this.keepAliveTimer = this.clock.setInterval(() => {
      for (const client of this.clients) client.keepAlive();
    }, this.keepAliveMs);
    this.pollTimer = this.clock.setInterval(() => this.poke(), this.pollMs);
  }

  private stopTimers(): void {
    this.clock.clearInterval(this.keepAliveTimer);
    this.clock.clearInterval(this.pollTimer);
    this.keepAliveTimer = undefined;
    this.pollTimer = undefined;
  }
}
