import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { systemClock } from "../../core/clock.ts";
import { type InstanceState, TERMINAL_RETENTION_SECONDS } from "../../core/lifecycle/index.ts";
import { computePlanHash } from "../../core/plan/index.ts";
import type { ProxyRouteTable } from "../../core/templates/proxy-routes-config.ts";
import { ArtifactCache } from "../artifacts/index.ts";
import { TemplateCache } from "../materialize/index.ts";
import { PortAllocator } from "../ports/index.ts";
import { AppliedPlanStore } from "./applied-plans.ts";
import { type ConsoleListener, InstanceConsole } from "./instance-console.ts";
import { ManagedInstance, type RunSettings } from "./managed-instance.ts";
import { readMonitorRecord, settingsFromRecord, writeMonitorRecord } from "./monitor-record.ts";
import { MonitoredProcess } from "./monitored-process.ts";
import { sweepOrphans } from "./orphan-sweep.ts";
import { PlayerCountPoller, playerStatusOf } from "./player-count-poller.ts";
import { applyProxyRoutes, type ProxyRoutesOutcome } from "./proxy-routes.ts";
import { defaultReadiness } from "./readiness.ts";
import { serverListPing } from "./server-list-ping.ts";
import { StartFailure } from "./start-failure.ts";
import { prepareStart } from "./start-preparation.ts";
import { realTimers } from "./stop-sequence.ts";
import type {
  InstanceSnapshot,
  StartOutcome,
  StopOutcome,
  SupervisorConfig,
  SupervisorDeps,
  SupervisorEvent,
  SupervisorLogger,
  SupervisorStartRequest,
  SupervisorStopRequest,
} from "./supervisor-types.ts";

// Instance ids name directories; group names and `-N` suffixes, or operator-chosen static names.
const INSTANCE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DEFAULT_STARTUP_TIMEOUT_SECONDS = 120;

const silentLogger: SupervisorLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export class UnknownInstanceError extends Error {
  readonly instanceId: string;
  constructor(instanceId: string) {
    super(`unknown instance ${instanceId}`);
    this.name = "UnknownInstanceError";
    this.instanceId = instanceId;
  }
}

/**
 * Runs this node's instances: takes a composition plan to a running process (ports, verified
 * templates, runtime, spawn), reports lifecycle changes and crashes through `onEvent`, and stops,
 * commands and describes what it runs. The daemon link drives it; it knows nothing about gRPC.
 *
 * Starts are idempotent per plan hash: a hash that already produced a process (recorded on disk) or
 * is being prepared right now is acknowledged as already applied and nothing new is started.
 */
export class Supervisor {
  readonly ports: PortAllocator;
  readonly templates: TemplateCache;
  readonly artifacts: ArtifactCache;
  private readonly instances = new Map<string, ManagedInstance>();
  private readonly logger: SupervisorLogger;
  private readonly now: () => number;
  private readonly players: PlayerCountPoller | undefined;
  private readonly routeApplies = new Map<string, Promise<void>>();

  private constructor(
    private readonly config: SupervisorConfig,
    private readonly deps: SupervisorDeps,
    private readonly applied: AppliedPlanStore,
    ports: PortAllocator,
  ) {
    this.ports = ports;
    this.templates = new TemplateCache(config.cacheDirectory);
    this.artifacts = new ArtifactCache(config.cacheDirectory);
    this.logger = deps.logger ?? silentLogger;
    this.now = deps.now ?? systemClock.now;
    this.players = this.playerCountPoller();
  }

  /** Player counts for servers without the cloud plugin; the controller prefers the plugin's. */
  private playerCountPoller(): PlayerCountPoller | undefined {
    const poll = this.config.playerCountPoll ?? { intervalMs: 5000, concurrency: 8, timeoutMs: 2000 };
    if (poll.intervalMs <= 0) return undefined;
    const host = this.config.localAddress ?? "127.0.0.1";
    return new PlayerCountPoller({
      intervalMs: poll.intervalMs,
      concurrency: poll.concurrency,
      // Read every round, so re-adopted instances are polled exactly like the ones started here.
      targets: () =>
        [...this.instances.values()]
          .filter((instance) => instance.lifecycle.state === "RUNNING" && instance.port > 0)
          .map((instance) => ({ instanceId: instance.id, port: instance.port })),
      ping: async (port) => {
        const status = playerStatusOf(
          (await serverListPing({ host, port, timeoutMs: poll.timeoutMs })).players,
        );
        if (!status) throw new Error("status carries no players.online");
        return status;
      },
      onChange: (instanceId, status) =>
        this.emit({ type: "players", instanceId, playerCount: status.online }),
    });
  }

  /**
   * Builds the supervisor and takes back the workloads an earlier daemon on this node left running
   * (see `adoptSurvivors`), so a daemon restart or upgrade never restarts a server.
   */
  static async create(
    config: SupervisorConfig,
    deps: SupervisorDeps,
    options: { ports?: PortAllocator } = {},
  ): Promise<Supervisor> {
    const applied = await AppliedPlanStore.open(config.stateFile);
    const supervisor = new Supervisor(config, deps, applied, options.ports ?? new PortAllocator());
    await supervisor.adoptSurvivors();
    supervisor.players?.start();
    return supervisor;
  }

  /** Where each workload's monitor keeps its console, stdin FIFO, exit status and record. */
  private get monitorRoot(): string {
    return join(this.config.instancesDirectory, ".monitor");
  }

  private monitorDir(instanceId: string): string {
    return join(this.monitorRoot, instanceId);
  }

  /**
   * Re-adopts every workload whose record proves it is still the process this node started (pid and
   * kernel start time of both the monitor and the workload), with its id, plan hash, ports and
   * console history. Records whose processes ended or cannot be proven are removed, and any process
   * of this node that is still around without a provable record is terminated: nothing is left
   * unmanaged on the node's ports.
   */
  private async adoptSurvivors(): Promise<void> {
    mkdirSync(this.monitorRoot, { recursive: true, mode: 0o700 });
    const managed = new Set<number>();
    for (const entry of readdirSync(this.monitorRoot)) {
      const dir = this.monitorDir(entry);
      const record = readMonitorRecord(dir);
      const state = record?.state;
      if (!record || !state || record.plan.instanceId !== entry || this.instances.has(entry)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      const instance = this.register({ plan: record.plan }, state);
      const process = MonitoredProcess.adopt({
        dir,
        identity: record.identity,
        startedAtMs: record.startedAtMs,
      });
      if (!process) {
        this.instances.delete(entry);
        this.logger.warn(
          { instanceId: entry, pid: record.identity.workload.pid },
          "workload ended while the daemon was away; its record is removed",
        );
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      instance.port = record.port;
      if (record.rcon) instance.rcon = record.rcon;
      await this.ports.reserve(entry, record.port, { probe: false });
      if (record.rcon) await this.ports.reserve(entry, record.rcon.port, { probe: false });
      instance.adopt(process, settingsFromRecord(record));
      managed.add(process.identity.monitor.pid);
      managed.add(process.identity.workload.pid);
      this.logger.info(
        { instanceId: entry, pid: process.pid, port: record.port, state },
        "re-adopted a workload left running by the previous daemon",
      );
      // The previous daemon was stopping it: finish the job.
      if (state === "STOPPING") void instance.stop({ reason: "stop resumed after a daemon restart" });
    }
    const orphans = await sweepOrphans({
      nodeId: this.config.nodeId,
      instancesDirectory: this.config.instancesDirectory,
      managed,
      graceMs: this.config.killTimeoutSeconds * 1000,
      log: (fields, message) => this.logger.warn(fields, message),
    });
    if (orphans.length > 0) this.logger.warn({ count: orphans.length }, "terminated unmanaged workloads");
  }

  /** Stops following every workload and leaves them running, for the next daemon to re-adopt. */
  detachAll(): void {
    this.players?.stop();
    for (const instance of this.instances.values()) if (!instance.terminal) instance.detach();
  }

  /**
   * Prepares and spawns the plan's process. Resolves once the process is spawned (STARTING; RUNNING
   * follows through `onEvent` when it is ready) or the start failed, with an outcome shaped like
   * StartInstanceAck.
   */
  async start(request: SupervisorStartRequest): Promise<StartOutcome> {
    const plan = request.plan;
    const id = plan.instanceId;
    const refuse = (failure: StartFailure): StartOutcome => ({
      accepted: false,
      alreadyApplied: false,
      instanceId: id,
      planHash: plan.planHash,
      stage: failure.stage,
      errorCode: failure.errorCode,
      errorMessage: failure.message,
      disposition: failure.disposition,
      retryAfterSeconds: failure.retryAfterSeconds,
    });

    // Everything up to registering the instance is synchronous, so a duplicate dispatch arriving at
    // the same moment always finds the first one.
    const existing = this.instances.get(id);
    if (
      this.applied.has(plan.planHash) ||
      (existing?.plan.planHash === plan.planHash && !existing.terminal)
    ) {
      this.logger.info(
        { instanceId: id, planHash: plan.planHash },
        "plan already applied; not starting again",
      );
      return {
        accepted: true,
        alreadyApplied: true,
        instanceId: id,
        planHash: plan.planHash,
        ...(existing ? { port: existing.port } : {}),
        ...(existing?.pid !== undefined ? { pid: existing.pid } : {}),
      };
    }
    if (existing && !existing.terminal) {
      return refuse(
        new StartFailure("VALIDATION", "INSTANCE_BUSY", `instance ${id} is ${existing.lifecycle.state}`, {
          disposition: "TRANSIENT",
          retryAfterSeconds: 5,
        }),
      );
    }
    if (!INSTANCE_ID.test(id)) {
      return refuse(
        new StartFailure("VALIDATION", "INVALID_PLAN", `invalid instance id ${JSON.stringify(id)}`, {
          disposition: "PERMANENT",
        }),
      );
    }
    if (this.config.verifyPlanHash !== false && computePlanHash(plan) !== plan.planHash) {
      return refuse(
        new StartFailure("VALIDATION", "PLAN_HASH_MISMATCH", "plan content does not match its planHash", {
          disposition: "PERMANENT",
        }),
      );
    }

    const instance = this.register(request);
    instance.lifecycle.moveTo("PREPARING", "plan accepted");
    try {
      const prepared = await prepareStart(
        {
          config: this.config,
          deps: this.deps,
          ports: this.ports,
          templates: this.templates,
          artifacts: this.artifacts,
        },
        instance,
        request,
      );
      if (instance.cancelled) {
        throw new StartFailure("PROCESS_START", "START_CANCELLED", "stopped before the process started", {
          disposition: "PERMANENT",
        });
      }
      // Durable before the spawn: a daemon that dies right after spawning must still refuse a re-dispatch.
      await this.applied.record(plan.planHash, id, this.now());
      let process: MonitoredProcess;
      try {
        process = await MonitoredProcess.spawn({
          argv: prepared.argv,
          cwd: prepared.cwd,
          env: prepared.env,
          dir: this.monitorDir(id),
          now: this.now,
        });
      } catch (err) {
        await this.applied.forget(plan.planHash);
        throw new StartFailure("PROCESS_START", "PROCESS_START_FAILED", (err as Error).message, {
          disposition: "PERMANENT",
          cause: err,
        });
      }
      this.logger.info({ instanceId: id, pid: process.pid, port: instance.port }, "instance process spawned");
      const settings: RunSettings = {
        stopCommand: prepared.stopCommand,
        shutdownTimeoutMs: this.config.shutdownTimeoutSeconds * 1000,
        killTimeoutMs: (request.shutdownGraceSeconds || this.config.killTimeoutSeconds) * 1000,
        startupTimeoutMs:
          (request.startupTimeoutSeconds ||
            this.config.defaultStartupTimeoutSeconds ||
            DEFAULT_STARTUP_TIMEOUT_SECONDS) * 1000,
        maxLifetimeMs: (request.maxLifetimeSeconds ?? 0) * 1000,
        readiness: { ...defaultReadiness(plan.runtime.platform), ...request.readiness },
        localAddress: this.config.localAddress ?? "127.0.0.1",
        readinessPollMs: this.config.readinessPollMs ?? 250,
      };
      // attach() moves to STARTING, which writes the monitor record (see register).
      instance.attach(process, settings);
      return {
        accepted: true,
        alreadyApplied: false,
        instanceId: id,
        planHash: plan.planHash,
        port: instance.port,
        pid: process.pid,
      };
    } catch (err) {
      const failure =
        err instanceof StartFailure
          ? err
          : new StartFailure("PROCESS_START", "INTERNAL", String((err as Error)?.message ?? err), {
              disposition: "TRANSIENT",
              retryAfterSeconds: 10,
              cause: err,
            });
      instance.failStart(failure);
      return refuse(failure);
    }
  }

  /** Stops an instance (graceful unless forced) and resolves once it has exited. */
  async stop(instanceId: string, request: SupervisorStopRequest = {}): Promise<StopOutcome> {
    const instance = this.instances.get(instanceId);
    if (!instance) return { accepted: false, instanceId, errorMessage: `unknown instance ${instanceId}` };
    return instance.stop(request);
  }

  /** Writes a console command to the instance's stdin; false when its console is closed. */
  sendCommand(instanceId: string, command: string): boolean {
    return this.require(instanceId).sendCommand(command);
  }

  /**
   * Writes a proxy's backend list into its config and reloads it (see proxy-routes.ts). One apply
   * per instance at a time, so two tables never interleave their read and write.
   */
  /** The directory of an instance this supervisor runs (undefined for one it does not know). */
  instanceDirectory(instanceId: string): string | undefined {
    return this.instances.has(instanceId) ? join(this.config.instancesDirectory, instanceId) : undefined;
  }

  applyProxyRoutes(instanceId: string, table: ProxyRouteTable): Promise<ProxyRoutesOutcome> {
    const previous = this.routeApplies.get(instanceId) ?? Promise.resolve();
    const next = previous.then(() =>
      applyProxyRoutes(this.instances.get(instanceId), this.config.instancesDirectory, table),
    );
    const settled = next.then(() => undefined);
    this.routeApplies.set(instanceId, settled);
    void settled.then(() => {
      if (this.routeApplies.get(instanceId) === settled) this.routeApplies.delete(instanceId);
    });
    return next;
  }

  /** Runs a command over RCON (the start must have enabled it) and returns the reply. */
  rconCommand(instanceId: string, command: string): Promise<string> {
    return this.require(instanceId).rconCommand(command);
  }

  /** Streams console lines (after replaying `backlog` buffered ones) until the returned function is called. */
  subscribeConsole(
    instanceId: string,
    listener: ConsoleListener,
    options: { backlog?: number } = {},
  ): () => void {
    return this.require(instanceId).console.subscribe(listener, options);
  }

  /** The newest `limit` cleaned console lines, oldest first. */
  consoleTail(instanceId: string, limit?: number): string[] {
    return this.require(instanceId).console.tail(limit);
  }

  /** Every instance this daemon supervises, including recently ended ones (for adoption and heartbeats). */
  snapshot(): InstanceSnapshot[] {
    this.pruneEnded();
    return [...this.instances.values()].map((instance) => this.describe(instance));
  }

  get(instanceId: string): InstanceSnapshot | undefined {
    const instance = this.instances.get(instanceId);
    return instance && this.describe(instance);
  }

  /** The instance's snapshot with the player count the poller last saw while it was RUNNING. */
  private describe(instance: ManagedInstance): InstanceSnapshot {
    const snapshot = instance.snapshot();
    const status = snapshot.state === "RUNNING" ? this.players?.status(instance.id) : undefined;
    if (status === undefined) return snapshot;
    return {
      ...snapshot,
      playerCount: status.online,
      ...(status.max !== undefined ? { maxPlayers: status.max } : {}),
      ...(status.sample !== undefined
        ? {
            playerSample: status.sample.map((entry) => entry.name),
            playerSampleIds: status.sample.map((entry) => entry.id),
          }
        : {}),
    };
  }

  /** Ports held by instances on this node (Heartbeat.used_ports). */
  usedPorts(): number[] {
    return this.ports.usedPorts();
  }

  /** Resolves once the instance has reached STOPPED or CRASHED. */
  async waitForEnd(instanceId: string): Promise<InstanceSnapshot> {
    const instance = this.require(instanceId);
    await instance.ended;
    return instance.snapshot();
  }

  /** Stops every live instance (node shutdown, tests). */
  async stopAll(request: SupervisorStopRequest = {}): Promise<StopOutcome[]> {
    this.players?.stop();
    return Promise.all([...this.instances.values()].filter((i) => !i.terminal).map((i) => i.stop(request)));
  }

  /** Keeps the instance's monitor record in step with its state, for a daemon that re-adopts it. */
  private persist(instance: ManagedInstance): void {
    const running = instance.running;
    if (!running || instance.terminal) return;
    try {
      writeMonitorRecord(running.process.dir, {
        plan: instance.plan,
        port: instance.port,
        ...(instance.rcon ? { rcon: instance.rcon } : {}),
        identity: running.process.identity,
        startedAtMs: running.process.startedAtMs,
        state: instance.lifecycle.state,
        settings: running.settings,
      });
    } catch (err) {
      this.logger.warn({ instanceId: instance.id, err }, "could not write the monitor record");
    }
  }

  private register(request: SupervisorStartRequest, initialState?: InstanceState): ManagedInstance {
    const instance: ManagedInstance = new ManagedInstance({
      ...(initialState ? { initialState } : {}),
      plan: request.plan,
      console: new InstanceConsole({
        capacity: this.config.logRingBufferLines,
        maxLinesPerSecond: this.config.maxConsoleOutputLinesPerSecond,
        now: this.now,
        onListenerError: (err) =>
          this.logger.warn({ instanceId: request.plan.instanceId, err }, "console subscriber failed"),
      }),
      emit: (event) => {
        if (event.type === "state") this.persist(instance);
        this.emit(event);
      },
      logger: this.logger,
      now: this.now,
      timers: this.deps.timers ?? realTimers,
      onEnded: (ended) => {
        this.ports.release(ended.id);
        // Only a live workload needs a monitor directory; its console is in the ring buffer.
        if (ended.running) rmSync(ended.running.process.dir, { recursive: true, force: true });
      },
    });
    this.instances.set(request.plan.instanceId, instance);
    return instance;
  }

  private emit(event: SupervisorEvent): void {
    try {
      this.deps.onEvent(event);
    } catch (err) {
      this.logger.error({ err, event: event.type }, "supervisor event handler failed");
    }
  }

  private require(instanceId: string): ManagedInstance {
    const instance = this.instances.get(instanceId);
    if (!instance) throw new UnknownInstanceError(instanceId);
    return instance;
  }

  /** Ended instances stay visible as long as the controller keeps terminal records (60 s / 300 s). */
  private pruneEnded(): void {
    const nowMs = this.now();
    for (const [id, instance] of this.instances) {
      const state = instance.lifecycle.state;
      if (state !== "STOPPED" && state !== "CRASHED") continue;
      if (instance.endedForMs(nowMs) > TERMINAL_RETENTION_SECONDS[state] * 1000) this.instances.delete(id);
    }
  }
}
