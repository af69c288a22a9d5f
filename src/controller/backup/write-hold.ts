import { AppError } from "../../core/errors.ts";
import type { Collection, Doc, DurableStore } from "../../store/port.ts";

/**
 * The controller's store mutations pass this gate. A backup *holds* it: new mutations wait, the
 * ones already running finish, and the cut is taken once none is in flight, so the durable store
 * read while held is exactly the state at the cut. A restore *closes* it: mutations are refused
 * with UNAVAILABLE (clients retry) instead of writing into a half-restored store.
 *
 * Both are bounded: a hold waits at most `drainMs` for in-flight writes and the holder must
 * release it (the backup does so in `finally`; a killed process takes the hold with it).
 */
export class WriteHold {
  private inflight = 0;
  private held: { promise: Promise<void>; release: () => void } | null = null;
  private closedReason: string | null = null;
  private interrupted: string | null = null;
  private drained: Array<() => void> = [];

  /** Waits while a hold is on, then counts one mutation in; call the returned function when done. */
  async admit(): Promise<() => void> {
    for (;;) {
      if (this.interrupted !== null) throw new AppError("UNAVAILABLE", this.interrupted);
      if (this.closedReason !== null) throw new AppError("UNAVAILABLE", this.closedReason);
      if (!this.held) break;
      await this.held.promise;
    }
    this.inflight += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inflight -= 1;
      if (this.inflight === 0) for (const wake of this.drained.splice(0)) wake();
    };
  }

  get isHeld(): boolean {
    return this.held !== null || this.closedReason !== null || this.interrupted !== null;
  }

  /**
   * Why the store must not be served right now: a restore is running (the gate is closed) or one
   * died half-way (its journal is still in the store). Null when the store is whole.
   */
  get restoreReason(): string | null {
    return this.interrupted ?? this.closedReason;
  }

  /**
   * A restore stopped half-way: mutations are refused (and the HTTP layer refuses reads) until a
   * restore of the bundle finishes. A restore itself still closes the gate and writes past it.
   */
  markInterrupted(reason: string): void {
    this.interrupted = reason;
  }

  clearInterrupted(): void {
    this.interrupted = null;
  }

  private async drain(drainMs: number): Promise<void> {
    if (this.inflight === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = new Promise<void>((resolve) => this.drained.push(resolve));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AppError("UNAVAILABLE", `store writes did not finish within ${drainMs} ms`)),
        drainMs,
      );
    });
    try {
      await Promise.race([drained, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Holds new mutations and waits for running ones; returns the release. */
  async hold(drainMs = 10_000): Promise<() => void> {
    if (this.held || this.closedReason !== null)
      throw new AppError("CONFLICT", "a backup or restore is already running");
    let release!: () => void;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    const entry = { promise, release };
    this.held = entry;
    const lift = () => {
      if (this.held === entry) this.held = null;
      entry.release();
    };
    try {
      await this.drain(drainMs);
    } catch (err) {
      lift();
      throw err;
    }
    return lift;
  }

  /** Refuses mutations (after the running ones finish); returns the re-opening. */
  async close(reason: string, drainMs = 10_000): Promise<() => void> {
    const lift = await this.hold(drainMs);
    this.closedReason = reason;
    lift();
    return () => {
      this.closedReason = null;
    };
  }
}

const MUTATIONS = new Set(["insert", "put", "update", "delete", "deleteMany", "importMany"]);

/** The store every service writes through: mutations pass the gate, reads go straight through. */
export function gatedStore(inner: DurableStore, gate: WriteHold): DurableStore {
  const collections = new Map<string, Collection<Doc>>();
  const gatedCollection = (col: Collection<Doc>): Collection<Doc> =>
    new Proxy(col, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        if (!MUTATIONS.has(String(prop))) return value.bind(target);
        return async (...args: unknown[]) => {
          const done = await gate.admit();
          try {
            return await value.apply(target, args);
          } finally {
            done();
          }
        };
      },
    });
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "collection") {
        return (name: string) => {
          let col = collections.get(name);
          if (!col) {
            col = gatedCollection(target.collection(name));
            collections.set(name, col);
          }
          return col;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (prop === "nextSequence" || prop === "importInternals") {
        return async (...args: unknown[]) => {
          const done = await gate.admit();
          try {
            return await value.apply(target, args);
          } finally {
            done();
          }
        };
      }
      return value.bind(target);
    },
  });
}
