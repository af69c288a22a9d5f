export interface ConsoleRecord {
  line: string;
  timestampMs: number;
}

export type ConsoleWatcher = (record: ConsoleRecord) => void;

const DEFAULT_CAPACITY = 1000;

/**
 * The console lines this controller received per instance: a bounded history for
 * `/console/history` and live fan-out for the console SSE stream. In memory on purpose: console
 * output is best effort on the wire too, and the daemon replays its own buffer on subscribe.
 */
export class ConsoleBuffer {
  private readonly lines = new Map<string, ConsoleRecord[]>();
  private readonly watchers = new Map<string, Set<ConsoleWatcher>>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  push(instanceId: string, record: ConsoleRecord): void {
    const ring = this.lines.get(instanceId) ?? [];
    this.lines.set(instanceId, ring);
    ring.push(record);
    if (ring.length > this.capacity) ring.splice(0, ring.length - this.capacity);
    for (const watcher of this.watchers.get(instanceId) ?? []) {
      try {
        watcher(record);
      } catch {
        // a broken stream must not stop the others
      }
    }
  }

  history(
    instanceId: string,
    options: { since?: number; until?: number; limit?: number } = {},
  ): ConsoleRecord[] {
    const all = (this.lines.get(instanceId) ?? []).filter(
      (r) =>
        (options.since === undefined || r.timestampMs >= options.since) &&
        (options.until === undefined || r.timestampMs <= options.until),
    );
    return options.limit === undefined ? all : all.slice(-options.limit);
  }

  watch(instanceId: string, watcher: ConsoleWatcher): () => void {
    const set = this.watchers.get(instanceId) ?? new Set<ConsoleWatcher>();
    this.watchers.set(instanceId, set);
    set.add(watcher);
    return () => {
      set.delete(watcher);
      if (set.size === 0 && this.watchers.get(instanceId) === set) this.watchers.delete(instanceId);
    };
  }

  /** Instances this controller holds console lines for. */
  instanceIds(): string[] {
    return [...this.lines.keys()];
  }

  forget(instanceId: string): void {
    this.lines.delete(instanceId);
  }
}
