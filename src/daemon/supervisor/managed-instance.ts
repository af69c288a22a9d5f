import type { ProcessExit } from "../../core/crash/index.ts";
import { isCrashExit } from "../../core/crash/index.ts";
import { type InstanceState, isTerminalState } from "../../core/lifecycle/index.ts";
import { buildCrashReport } from "./crash-report.ts";
import type { InstanceConsole } from "./instance-console.ts";
import { LifecycleRecord } from "./lifecycle-record.ts";
import type { MonitoredProcess } from "./monitored-process.ts";
import { RconLink } from "./rcon-link.ts";
import type { ReadinessSpec } from "./readiness.ts";
import { serverListPing } from "./server-list-ping.ts";
import type { StartFailure } from "./start-failure.ts";
import { runStopSequence, type StopStep, type Timers } from "./stop-sequence.ts";
import type {
  InstanceSnapshot,
  StopOutcome,
  SupervisedPlan,
  SupervisorEvent,
  SupervisorLogger,
  SupervisorStopRequest,
} from "./supervisor-types.ts";

/** Per-instance settings fixed once preparation is done. */
export interface RunSettings {
  readonly stopCommand: string;
  readonly shutdownTimeoutMs: number;
  readonly killTimeoutMs: number;
  readonly startupTimeoutMs: number;
  readonly maxLifetimeMs: number;
  readonly readiness: ReadinessSpec;
  readonly localAddress: string;
  readonly readinessPollMs: number;
}

export interface ManagedInstanceContext {
  readonly plan: SupervisedPlan;
  readonly console: InstanceConsole;
  readonly emit: (event: SupervisorEvent) => void;
  readonly logger: SupervisorLogger;
  readonly now: () => number;
  readonly timers: Timers;
  /** Called once when the instance reached a terminal state (frees its ports). */
  readonly onEnded: (instance: ManagedInstance) => void;
  /** A re-adopted instance starts in the state its record says; a new one in SCHEDULED. */
  readonly initialState?: InstanceState;
}

/**
 * One instance from acceptance to exit: its lifecycle record, its process once spawned, readiness
 * detection, the startup and lifetime timers, stopping, and turning the exit into STOPPED or CRASHED
 * (with a crash report).
 */
export class ManagedInstance {
  readonly plan: SupervisedPlan;
  readonly console: InstanceConsole;
  readonly lifecycle: LifecycleRecord;
  port = 0;
  rcon: { readonly port: number; readonly password: string } | undefined;
  /** Set by a stop that arrived while the instance was still being prepared. */
  cancelled = false;
  private process: MonitoredProcess | undefined;
  private settings: RunSettings | undefined;
  private detail = "accepted";
  private refused = false;
  private exitStatus: ProcessExit | undefined;
  private endedAtMs: number | undefined;
  private stopping: Promise<StopOutcome> | undefined;
  private lastStopStep: StopStep | undefined;
  private daemonCause: string | undefined;
  private rconLink: RconLink | undefined;
  private readonly handles: unknown[] = [];
  private unwatch: (() => void) | undefined;
  private resolveEnded!: () => void;
  /** Settles when the instance reached STOPPED or CRASHED. */
  readonly ended: Promise<void>;

  constructor(private readonly context: ManagedInstanceContext) {
    this.plan = context.plan;
    this.console = context.console;
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    this.lifecycle = new LifecycleRecord(
      context.initialState ?? "SCHEDULED",
      (change) => {
        this.detail = change.detail;
        context.emit({
          type: "state",
          instanceId: this.plan.instanceId,
          group: this.plan.groupName,
          planHash: this.plan.planHash,
          port: this.port,
          ...change,
        });
      },
      (from, to, detail) =>
        context.logger.warn(
          { instanceId: this.plan.instanceId, from, to, detail },
          "illegal lifecycle transition refused",
        ),
      context.now,
    );
  }

  get id(): string {
    return this.plan.instanceId;
  }

  get terminal(): boolean {
    return isTerminalState(this.lifecycle.state);
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get exit(): ProcessExit | undefined {
    return this.exitStatus;
  }

  /** The running process and how it is run, once spawned or adopted. */
  get running(): { process: MonitoredProcess; settings: RunSettings } | undefined {
    return this.process && this.settings ? { process: this.process, settings: this.settings } : undefined;
  }

  /** The start could not complete; nothing is running. */
  failStart(failure: StartFailure): void {
    const detail = `start failed at ${failure.stage}: ${failure.message}`;
    this.context.logger.warn(
      { instanceId: this.id, stage: failure.stage, code: failure.errorCode },
      "instance start failed",
    );
    this.refused = !this.cancelled;
    this.finish(
      this.cancelled ? "STOPPED" : "CRASHED",
      this.cancelled ? "start cancelled by a stop" : detail,
    );
  }

  /** Takes over the freshly spawned process: STARTING, readiness, timers, exit handling. */
  attach(process: MonitoredProcess, settings: RunSettings): void {
    this.process = process;
    this.settings = settings;
    this.lifecycle.moveTo("STARTING", `spawned pid ${process.pid}`);
    this.watch(process, settings);
  }

  /**
   * Takes back a workload a previous daemon started (the lifecycle already holds the recorded
   * state): readiness only if it was still starting, the lifetime limit counted from its spawn.
   */
  adopt(process: MonitoredProcess, settings: RunSettings): void {
    this.process = process;
    this.settings = settings;
    this.detail = `re-adopted pid ${process.pid}`;
    this.watch(process, settings);
  }

  /** Stops following the process and leaves it running (the daemon exits; a new one re-adopts it). */
  detach(): void {
    for (const handle of this.handles) this.context.timers.clearTimeout(handle);
    this.handles.length = 0;
    this.unwatch?.();
    void this.rconLink?.close();
    this.process?.detach();
  }

  private watch(process: MonitoredProcess, settings: RunSettings): void {
    const starting = this.lifecycle.state === "STARTING";
    if (this.rcon) {
      this.rconLink = new RconLink({ host: settings.localAddress, ...this.rcon });
    }

    const pattern = settings.readiness.console;
    if (starting && pattern) {
      this.unwatch = this.console.watch((entry) => {
        if (pattern.test(entry.line)) this.markReady("console ready line");
      });
    }
    process.follow((line) => this.console.push("stdout", line));
    if (starting && settings.readiness.ping) void this.pollServerListPing();
    const age = Math.max(0, this.context.now() - process.startedAtMs);
    if (starting) {
      this.handles.push(
        this.context.timers.setTimeout(
          () => this.onStartupTimeout(),
          Math.max(0, settings.startupTimeoutMs - age),
        ),
      );
    }
    if (settings.maxLifetimeMs > 0) {
      this.handles.push(
        this.context.timers.setTimeout(
          () => {
            void this.stop({ reason: "max lifetime reached" });
          },
          Math.max(0, settings.maxLifetimeMs - age),
        ),
      );
    }
    void process.exited.then((exit) => this.onExit(exit));
  }

  sendCommand(command: string): boolean {
    return this.process?.writeCommand(command) ?? false;
  }

  async rconCommand(command: string): Promise<string> {
    if (!this.rconLink) throw new Error(`instance ${this.id} has no RCON`);
    return this.rconLink.send(command);
  }

  stop(request: SupervisorStopRequest = {}): Promise<StopOutcome> {
    if (this.terminal) return Promise.resolve(this.stopped());
    const reason = request.reason ?? (request.force ? "forced stop requested" : "stop requested");
    const process = this.process;
    if (process === undefined) {
      // Still preparing: the start notices the flag before spawning and ends the instance.
      this.cancelled = true;
      this.lifecycle.moveTo("STOPPING", reason);
      return this.ended.then(() => this.stopped());
    }
    if (this.stopping) {
      if (request.force) process.signal("SIGKILL");
      return this.stopping;
    }
    this.lifecycle.moveTo("STOPPING", reason);
    this.stopping = this.runStop(process, request.force ?? false);
    return this.stopping;
  }

  snapshot(): InstanceSnapshot {
    const startedAtMs = this.process?.startedAtMs;
    const end = this.endedAtMs ?? this.context.now();
    return {
      instanceId: this.id,
      group: this.plan.groupName,
      planHash: this.plan.planHash,
      state: this.lifecycle.state,
      port: this.port,
      ...(this.rcon ? { rconPort: this.rcon.port } : {}),
      ...(this.process ? { pid: this.process.pid } : {}),
      processAlive: this.process?.alive ?? false,
      ...(startedAtMs !== undefined ? { startedAtMs } : {}),
      uptimeMs: startedAtMs === undefined ? 0 : Math.max(0, end - startedAtMs),
      detail: this.detail,
      ...(this.exitStatus ? { exit: this.exitStatus } : {}),
      ...(this.refused ? { startRefused: true } : {}),
    };
  }

  /** Milliseconds since the instance ended, for pruning terminal records. */
  endedForMs(nowMs: number): number {
    return this.endedAtMs === undefined ? 0 : nowMs - this.endedAtMs;
  }

  private async runStop(process: MonitoredProcess, force: boolean): Promise<StopOutcome> {
    const settings = this.settings!;
    this.lastStopStep = await runStopSequence(process, {
      stopCommand: settings.stopCommand,
      force,
      shutdownTimeoutMs: settings.shutdownTimeoutMs,
      killTimeoutMs: settings.killTimeoutMs,
      timers: this.context.timers,
      onStep: (step) => this.context.logger.info({ instanceId: this.id, step }, "stopping instance"),
    });
    await this.ended;
    return this.stopped();
  }

  private stopped(): StopOutcome {
    return {
      accepted: true,
      instanceId: this.id,
      ...(this.lastStopStep ? { step: this.lastStopStep } : {}),
      ...(this.exitStatus ? { exit: this.exitStatus } : {}),
    };
  }

  private markReady(signal: string): void {
    if (this.lifecycle.state !== "STARTING" || this.daemonCause) return;
    this.unwatch?.();
    this.lifecycle.moveTo("RUNNING", `ready (${signal})`);
  }

  private async pollServerListPing(): Promise<void> {
    const settings = this.settings!;
    while (this.lifecycle.state === "STARTING" && this.process?.alive && !this.daemonCause) {
      try {
        await serverListPing({ host: settings.localAddress, port: this.port, timeoutMs: 1000 });
        this.markReady("server list ping");
        return;
      } catch {
        // Not listening yet.
      }
      await new Promise<void>((resolve) => this.context.timers.setTimeout(resolve, settings.readinessPollMs));
    }
  }

  private onStartupTimeout(): void {
    if (this.lifecycle.state !== "STARTING" || !this.process) return;
    const seconds = Math.round(this.settings!.startupTimeoutMs / 1000);
    this.daemonCause = `not ready within the ${seconds}s startup timeout`;
    this.context.logger.warn({ instanceId: this.id }, this.daemonCause);
    // Not STOPPING: that would make the exit count as a requested, clean stop.
    this.stopping = this.runStop(this.process, false);
  }

  private onExit(exit: ProcessExit): void {
    this.exitStatus = exit;
    const stateAtExit = this.lifecycle.state;
    const crashed = this.daemonCause !== undefined || isCrashExit(stateAtExit, exit);
    if (!crashed) {
      const how = stateAtExit === "STOPPING" ? "stopped" : "exited on its own";
      this.finish("STOPPED", `${how} (${describeExit(exit)})`);
      return;
    }
    const nowMs = this.context.now();
    const report = buildCrashReport({
      instanceId: this.id,
      group: this.plan.groupName,
      planHash: this.plan.planHash,
      exit,
      logTail: this.console.tail(),
      uptimeMs: nowMs - (this.process?.startedAtMs ?? nowMs),
      crashedAtMs: nowMs,
      ...(this.daemonCause ? { daemonCause: this.daemonCause } : {}),
    });
    this.context.logger.warn(
      { instanceId: this.id, classification: report.classification, exit },
      `instance crashed: ${report.reason}`,
    );
    this.context.emit({ type: "crash", report });
    this.finish("CRASHED", `${report.classification}: ${report.reason}`);
  }

  private finish(state: "STOPPED" | "CRASHED", detail: string): void {
    for (const handle of this.handles) this.context.timers.clearTimeout(handle);
    this.handles.length = 0;
    this.unwatch?.();
    void this.rconLink?.close();
    this.endedAtMs = this.context.now();
    this.lifecycle.moveTo(state, detail);
    this.context.onEnded(this);
    this.resolveEnded();
  }
}

function describeExit(exit: ProcessExit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.exitCode}`;
}
