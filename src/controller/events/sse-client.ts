import type { BusEvent } from "./event-types.ts";
import { KEEP_ALIVE_FRAME, type ResyncInfo, resyncFrame } from "./sse-frames.ts";
import type { TicketHolder } from "./sse-tickets.ts";

/** Bytes the stream may hold before it reports backpressure (Bun drains it into the socket). */
const HIGH_WATER_MARK = 64 * 1024;

/** `?types=` and `?group=`: both must match when both are given. */
export interface StreamFilter {
  types?: ReadonlySet<string>;
  group?: string;
}

export function matchesFilter(filter: StreamFilter, event: BusEvent): boolean {
  if (filter.types && !filter.types.has(event.type)) return false;
  if (filter.group !== undefined && event.group !== filter.group) return false;
  return true;
}

export interface SseClientOptions {
  holder: TicketHolder;
  filter: StreamFilter;
  /** the position the client already has; events at or below it are never sent */
  position: number;
  /** bytes queued for a client that does not read before it is cut off */
  maxQueuedBytes: number;
  now: () => number;
  onClose(client: SseClient, reason: string): void;
}

/**
 * One general-stream connection. Until its replay is done it holds live events back, then sends
 * them in order, skipping anything at or below what it already sent: that is what makes the
 * replay/live boundary free of gaps and duplicates.
 */
export class SseClient {
  readonly stream: ReadableStream<Uint8Array>;
  readonly holder: TicketHolder;
  readonly filter: StreamFilter;
  private at: number;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private replaying = true;
  private held: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: SseClientOptions) {
    this.holder = options.holder;
    this.filter = options.filter;
    this.at = options.position;
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        // The client went away (or the server is closing the response).
        cancel: () => this.close("client disconnected"),
      },
      { highWaterMark: HIGH_WATER_MARK, size: (chunk) => chunk?.byteLength ?? 0 },
    );
  }

  /** highest sequence this client is past (sent, or filtered out) */
  get position(): number {
    return this.at;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A live event from the hub. */
  live(event: BusEvent, frame: Uint8Array): void {
    if (this.closed) return;
    if (this.replaying) this.held.push(() => this.emit(event, frame));
    else this.emit(event, frame);
  }

  /** A replayed event, read from the buffer by the stream opener. */
  replay(event: BusEvent, frame: Uint8Array): void {
    if (!this.closed) this.emit(event, frame);
  }

  /** Part of the replay: the client's position is gone, so it continues from `continueFrom`. */
  replayResync(info: ResyncInfo, continueFrom: number): void {
    if (this.closed) return;
    this.write(resyncFrame(info, continueFrom, this.options.now()));
    // Set, not raised: after a buffer reset the sequence starts over below the old position.
    this.at = continueFrom;
  }

  /**
   * From the hub, for live events it could not deliver: lost to trimming (`reset` false: only a
   * client still behind the loss is told) or to a buffer that started over (`reset` true).
   */
  resync(info: Omit<ResyncInfo, "lastSequence">, continueFrom: number, reset: boolean): void {
    if (this.closed) return;
    const send = () => {
      if (!reset && continueFrom <= this.at) return;
      this.replayResync({ lastSequence: this.at, ...info }, continueFrom);
    };
    if (this.replaying) this.held.push(send);
    else send();
  }

  /** Replay done: release what arrived live meanwhile, then go live. */
  goLive(): void {
    for (const step of this.held) step();
    this.held = [];
    this.replaying = false;
  }

  keepAlive(): void {
    if (!this.closed) this.write(KEEP_ALIVE_FRAME);
  }

  write(frame: Uint8Array): void {
    if (this.closed || !this.controller) return;
    const desired = this.controller.desiredSize;
    if (desired !== null && HIGH_WATER_MARK - desired > this.options.maxQueuedBytes) {
      // It resumes from its Last-Event-ID on reconnect; holding megabytes for it helps nobody.
      this.close("client too slow");
      return;
    }
    try {
      this.controller.enqueue(frame);
    } catch {
      // enqueue throws only once the stream is closed by the client: finish our side too
      this.close("stream closed");
    }
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.held = [];
    try {
      this.controller?.close();
    } catch {
      // already closed or cancelled
    }
    this.options.onClose(this, reason);
  }

  private emit(event: BusEvent, frame: Uint8Array): void {
    if (event.sequence <= this.at) return;
    this.at = event.sequence;
    if (matchesFilter(this.filter, event)) this.write(frame);
  }
}
