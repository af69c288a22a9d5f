import type { Logger } from "../../log/logger.ts";

/** Undoes one started step (closes a connection, clears a timer, unsubscribes). */
export type Stop = () => void | Promise<void>;

/** Starts one step and hands back how to stop it (nothing when it leaves nothing running). */
export type Start = () => Stop | undefined | Promise<Stop | undefined>;

/** What a wiring module needs of the sequence: it registers its steps, it never runs them. */
export type Steps = Pick<StartSequence, "add">;

/**
 * The controller's start phase: steps registered in dependency order, started in that order, and
 * stopped in the reverse order of what actually started. Construction registers steps without
 * running them, so nothing listens or ticks until `start`; a step that throws leaves the ones before
 * it to `stop`. A step may carry a phase name, which readiness reports while it runs.
 */
export class StartSequence {
  private readonly pending: Array<{ name: string; phase: string | undefined; start: Start }> = [];
  private readonly started: Array<{ name: string; stop: Stop }> = [];

  constructor(
    private readonly log: Logger,
    /** told before each step that names a phase (the early listener's readiness reason) */
    private readonly onPhase: (phase: string) => Promise<void> = async () => undefined,
  ) {}

  /** Registers a step for `start`; `phase` names it for readiness while it runs. */
  add(name: string, start: Start, phase?: string): void {
    this.pending.push({ name, phase, start });
  }

  /** Registers something already running (opened before construction): only its stop is left. */
  opened(name: string, stop: Stop): void {
    this.started.push({ name, stop });
  }

  /** Runs every registered step in order; throws the first failure (the caller then calls stop). */
  async start(): Promise<void> {
    for (const step of this.pending.splice(0)) {
      if (step.phase !== undefined) await this.onPhase(step.phase);
      const stop = await step.start();
      if (stop) this.started.push({ name: step.name, stop });
    }
  }

  /** Stops what started, newest first; a failing step is logged and the rest still stop. */
  async stop(): Promise<void> {
    for (const step of this.started.splice(0).reverse()) {
      try {
        await step.stop();
      } catch (err) {
        this.log.warn({ err, step: step.name }, "shutdown step failed");
      }
    }
  }
}
