import { type Clock, systemClock } from "../../core/clock.ts";
/** What the stop sequence needs from a running process. */
export interface StoppableProcess {
  /** Writes one console line; false when the console can no longer be written. */
  writeCommand(line: string): boolean;
  signal(signal: "SIGTERM" | "SIGKILL"): void;
  /** Settles when the process has exited. */
  readonly exited: Promise<unknown>;
}

/** The part of the clock the stop sequence uses. */
export type Timers = Pick<Clock, "setTimeout" | "clearTimeout">;

export const realTimers: Timers = systemClock;

export interface StopSequenceOptions {
  /** The platform's console stop command (`stop`, `end`). */
  readonly stopCommand: string;
  /** Skip the console command and SIGTERM: kill at once. */
  readonly force: boolean;
  /** How long the stop command gets before SIGTERM (`instances.shutdownTimeoutSeconds`). */
  readonly shutdownTimeoutMs: number;
  /** How long SIGTERM gets before SIGKILL (`instances.killTimeoutSeconds`). */
  readonly killTimeoutMs: number;
  readonly timers?: Timers;
  /** Told about each escalation step as it happens. */
  readonly onStep?: (step: StopStep) => void;
}

export type StopStep = "command" | "SIGTERM" | "SIGKILL";

/**
 * Stops a process and resolves with the last step that was needed: the console command, then SIGTERM
 * once `shutdownTimeoutMs` passed, then SIGKILL once `killTimeoutMs` passed. A server that cannot
 * read its console (closed stdin) goes straight to SIGTERM. SIGKILL cannot be ignored, so the final
 * wait is unbounded.
 */
export async function runStopSequence(
  process: StoppableProcess,
  options: StopSequenceOptions,
): Promise<StopStep> {
  const timers = options.timers ?? realTimers;
  const step = (name: StopStep): void => options.onStep?.(name);

  if (!options.force) {
    const sent = process.writeCommand(options.stopCommand);
    if (sent) {
      step("command");
      if (await exitsWithin(process.exited, options.shutdownTimeoutMs, timers)) return "command";
    }
    step("SIGTERM");
    process.signal("SIGTERM");
    if (await exitsWithin(process.exited, options.killTimeoutMs, timers)) return "SIGTERM";
  }
  step("SIGKILL");
  process.signal("SIGKILL");
  await process.exited;
  return "SIGKILL";
}

function exitsWithin(exited: Promise<unknown>, ms: number, timers: Timers): Promise<boolean> {
  return new Promise((resolve) => {
    const handle = timers.setTimeout(() => resolve(false), ms);
    exited.then(
      () => {
        timers.clearTimeout(handle);
        resolve(true);
      },
      () => {
        timers.clearTimeout(handle);
        resolve(true);
      },
    );
  });
}
