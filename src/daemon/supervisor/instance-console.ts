import { systemClock } from "../../core/clock.ts";
import { cleanConsoleLine } from "./console-line.ts";
import { FloodGate } from "./flood-gate.ts";
import { RingBuffer } from "./ring-buffer.ts";

export type ConsoleStream = "stdout" | "stderr";

export interface ConsoleEntry {
  /** Per instance, increasing by one per line read; gaps in a delivery mean shed lines. */
  readonly sequence: number;
  readonly timestampMs: number;
  readonly stream: ConsoleStream;
  readonly line: string;
}

export interface ConsoleDelivery extends ConsoleEntry {
  /** Lines shed by the flood cap since the previous delivered line. */
  readonly droppedBefore: number;
}

export type ConsoleListener = (delivery: ConsoleDelivery) => void;

export interface InstanceConsoleOptions {
  /** `instances.logRingBufferLines`. */
  readonly capacity: number;
  /** `instances.maxConsoleOutputLinesPerSecond`. */
  readonly maxLinesPerSecond: number;
  readonly now?: () => number;
  readonly onListenerError?: (err: unknown) => void;
}

/**
 * One instance's console: a ring buffer of cleaned lines plus live subscribers.
 *
 * The ring keeps every line: it is the crash evidence, and a flood of output right before a crash is
 * exactly when the last lines matter. The flood cap applies to what is streamed to subscribers (and
 * from there off the node), which is where a chatty process costs bandwidth and CPU elsewhere.
 * Watchers (readiness detection) see every line too.
 */
export class InstanceConsole {
  private readonly ring: RingBuffer<ConsoleEntry>;
  private readonly gate: FloodGate;
  private readonly listeners = new Set<ConsoleListener>();
  private readonly watchers = new Set<(entry: ConsoleEntry) => void>();
  private readonly now: () => number;
  private sequence = 0;

  constructor(private readonly options: InstanceConsoleOptions) {
    this.ring = new RingBuffer(options.capacity);
    this.gate = new FloodGate(options.maxLinesPerSecond);
    this.now = options.now ?? systemClock.now;
  }

  /** Records one raw line read from the process; noise-only lines are dropped. */
  push(stream: ConsoleStream, raw: string): void {
    const line = cleanConsoleLine(raw);
    if (line === "") return;
    const entry: ConsoleEntry = { sequence: ++this.sequence, timestampMs: this.now(), stream, line };
    this.ring.push(entry);
    for (const watcher of this.watchers) this.safely(() => watcher(entry));
    if (this.listeners.size === 0) return;
    const verdict = this.gate.admit(entry.timestampMs);
    if (!verdict.admitted) return;
    const delivery: ConsoleDelivery = { ...entry, droppedBefore: verdict.droppedBefore };
    for (const listener of this.listeners) this.safely(() => listener(delivery));
  }

  /**
   * Streams lines to `listener` until the returned function is called, after replaying up to
   * `backlog` buffered lines.
   */
  subscribe(listener: ConsoleListener, options: { backlog?: number } = {}): () => void {
    for (const entry of this.ring.toArray(options.backlog ?? 0)) {
      this.safely(() => listener({ ...entry, droppedBefore: 0 }));
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sees every line, uncapped; for the supervisor's own pattern matching. */
  watch(watcher: (entry: ConsoleEntry) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** The newest `limit` lines, oldest first. */
  tail(limit?: number): string[] {
    return this.ring.toArray(limit).map((entry) => entry.line);
  }

  entries(limit?: number): ConsoleEntry[] {
    return this.ring.toArray(limit);
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // One broken subscriber must not stop the others, nor the pump that reads the process.
      this.options.onListenerError?.(err);
    }
  }
}
