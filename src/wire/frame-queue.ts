/**
 * The single writer of one gRPC stream, on either end.
 *
 * Every producer (heartbeat timer, command dispatch, console pump) pushes here, and the stream pulls
 * one frame at a time as the transport drains (nice-grpc awaits `drain` between writes), so frames are
 * never written concurrently and a slow peer shows up as a growing queue instead of unbounded
 * buffering inside the transport.
 *
 * When the queue is at capacity, best-effort frames (console lines, forwarded log records) are shed
 * first: an incoming one is dropped, or the oldest queued one makes room for a critical frame.
 * Critical frames (commands, status, acks) are never shed; if they alone pile up past the hard limit
 * the peer has stopped reading, and the queue fails so the session is torn down and rebuilt from a
 * fresh Hello rather than kept alive with silent gaps.
 */
export type PushOutcome = "queued" | "shed" | "overflow" | "closed";

export interface FrameQueueOptions<T> {
  /** Soft bound: above it, sheddable frames give way. */
  readonly capacity: number;
  /** Critical frames beyond this fail the queue. Default: 4 × capacity. */
  readonly hardLimit?: number;
  readonly isSheddable: (frame: T) => boolean;
}

export class FrameQueueOverflowError extends Error {
  constructor(limit: number) {
    super(`outbound queue exceeded ${limit} frames; the peer is not reading`);
    this.name = "FrameQueueOverflowError";
  }
}

export class FrameQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private head = 0;
  private sheddableQueued = 0;
  private waiter: (() => void) | undefined;
  private ended = false;
  private failure: unknown;
  private finalError: unknown;
  private readonly hardLimit: number;
  /** frames dropped to make room, since creation */
  shed = 0;
  /** frames handed to the transport, since creation */
  delivered = 0;

  constructor(private readonly options: FrameQueueOptions<T>) {
    if (options.capacity < 1) throw new RangeError("capacity must be at least 1");
    this.hardLimit = options.hardLimit ?? options.capacity * 4;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  get closed(): boolean {
    return this.ended;
  }

  push(frame: T): PushOutcome {
    if (this.ended) return "closed";
    const sheddable = this.options.isSheddable(frame);
    if (this.size >= this.options.capacity) {
      if (sheddable) {
        this.shed++;
        return "shed";
      }
      if (this.sheddableQueued > 0) {
        this.evictOldestSheddable();
      } else if (this.size >= this.hardLimit) {
        this.fail(new FrameQueueOverflowError(this.hardLimit));
        return "overflow";
      }
    }
    this.items.push(frame);
    if (sheddable) this.sheddableQueued++;
    this.wake();
    return "queued";
  }

  /**
   * Ends the stream after what is queued has been written; with `finalError`, the reader then throws
   * it (a status sent after the last frames, for example a refusal that follows its explanation).
   */
  close(finalError?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.finalError = finalError;
    this.wake();
  }

  /** Ends the stream now: queued frames are discarded and the reader throws `error`. */
  fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.ended = true;
    this.items = [];
    this.head = 0;
    this.sheddableQueued = 0;
    this.wake();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (this.size > 0) {
        const frame = this.take();
        this.delivered++;
        yield frame;
        continue;
      }
      if (this.ended) {
        if (this.finalError !== undefined) throw this.finalError;
        return;
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  private take(): T {
    const frame = this.items[this.head] as T;
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.options.isSheddable(frame)) this.sheddableQueued--;
    // Compact now and then so the array does not grow without bound under steady traffic.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return frame;
  }

  private evictOldestSheddable(): void {
    for (let i = this.head; i < this.items.length; i++) {
      if (this.options.isSheddable(this.items[i] as T)) {
        this.items.splice(i, 1);
        this.sheddableQueued--;
        this.shed++;
        return;
      }
    }
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
