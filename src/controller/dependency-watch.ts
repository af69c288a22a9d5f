import type { Clock, TimerHandle } from "../core/clock.ts";
import type { Logger } from "../log/logger.ts";
import type { EventPublisher } from "./events/event-types.ts";

export type Dependency = "store" | "coordination";

export interface DependencyProbe {
  name: Dependency;
  ping(): Promise<void>;
}

interface ProbeState {
  up: boolean;
  downSince: number;
}

/**
 * Watches the store and coordination from this controller, so an outage is one warn line and one
 * DEPENDENCY_DOWN event when it starts and one info line and DEPENDENCY_RESTORED when it ends,
 * instead of only the 503s of the requests that meet it. Probes run one at a time per dependency
 * with a deadline, so a paused server costs one pending ping, never a pile of them.
 */
export class DependencyWatch {
  private readonly states = new Map<Dependency, ProbeState>();
  private timer: TimerHandle | undefined;
  private inFlight = new Set<Dependency>();

  constructor(
    private readonly deps: {
      probes: readonly DependencyProbe[];
      events: EventPublisher;
      log: Logger;
      clock: Clock;
      controllerId: string;
      /** gauge: 1 while reachable */
      gauge?: (dependency: Dependency, up: boolean) => void;
      intervalMs?: number;
      deadlineMs?: number;
    },
  ) {
    for (const probe of deps.probes) this.states.set(probe.name, { up: true, downSince: 0 });
  }

  start(): void {
    for (const probe of this.deps.probes) this.deps.gauge?.(probe.name, true);
    this.timer = this.deps.clock.setInterval(() => void this.checkAll(), this.deps.intervalMs ?? 1000, {
      unref: true,
    });
  }

  stop(): void {
    this.deps.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  isUp(name: Dependency): boolean {
    return this.states.get(name)?.up ?? true;
  }

  /** One round of probes; public so tests drive it without waiting on the interval. */
  async checkAll(): Promise<void> {
    await Promise.all(this.deps.probes.map((probe) => this.check(probe)));
  }

  private async check(probe: DependencyProbe): Promise<void> {
    if (this.inFlight.has(probe.name)) return;
    this.inFlight.add(probe.name);
    let error: string | undefined;
    try {
      await this.withDeadline(probe.ping());
    } catch (err) {
      error = (err as Error).message;
    } finally {
      this.inFlight.delete(probe.name);
    }
    await this.record(probe.name, error);
  }

  private async record(name: Dependency, error: string | undefined): Promise<void> {
    const state = this.states.get(name)!;
    const { log, events, controllerId, clock } = this.deps;
    if (error !== undefined && state.up) {
      state.up = false;
      state.downSince = clock.now();
      this.deps.gauge?.(name, false);
      log.warn({ dependency: name, err: error }, `${name} unreachable; requests that need it answer 503`);
      await events
        .publish({ type: "DEPENDENCY_DOWN", payload: { controllerId, dependency: name, message: error } })
        // the event is informational (the store or coordination may be what is down); logged above
        .catch(() => undefined);
    } else if (error === undefined && !state.up) {
      state.up = true;
      const downMs = clock.now() - state.downSince;
      this.deps.gauge?.(name, true);
      log.info({ dependency: name, downMs }, `${name} reachable again`);
      await events
        .publish({ type: "DEPENDENCY_RESTORED", payload: { controllerId, dependency: name, downMs } })
        // the event is informational; the recovery is logged above
        .catch(() => undefined);
    }
  }

  private withDeadline(work: Promise<void>): Promise<void> {
    const ms = this.deps.deadlineMs ?? 700;
    let timer: TimerHandle | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = this.deps.clock.setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    });
    // the race below reports the failure; this only keeps a late rejection from going unhandled
    work.catch(() => undefined);
    return Promise.race([work, late]).finally(() => this.deps.clock.clearTimeout(timer));
  }
}
