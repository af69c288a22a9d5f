import { ClientError, createClient, Status } from "nice-grpc";
import { type Clock, systemClock, type TimerHandle } from "../../core/clock.ts";
import { INSTANCE_STATE_NUMBERS } from "../../core/lifecycle/index.ts";
import type { Logger } from "../../log/logger.ts";
import { FrameQueue } from "../../wire/frame-queue.ts";
import {
  type ControllerMessage,
  type CrashReport,
  DaemonMessage,
  DaemonServiceDefinition,
  ErrorReport,
  type FetchArtifact,
  FrameErrorCode,
  Heartbeat,
  Hello,
  type HelloAck,
  InstanceReport,
  PROTOCOL_VERSION,
} from "../../wire/index.ts";
import type { NodeIdentity } from "../identity-store.ts";
import type { ArtifactFetcher } from "./artifact-fetcher.ts";
import { Backoff, type BackoffSettings } from "./backoff.ts";
import { nodeChannel } from "./channel.ts";
import { applyControllerFrame } from "./controller-frames.ts";
import { EndpointRotation } from "./endpoint-rotation.ts";
import { FenceGuard } from "./fence-guard.ts";
import { HostMetrics, hostInfo } from "./host-metrics.ts";
import type { LinkCommands, LinkInstance, LinkSupervisor } from "./supervisor-port.ts";

/** Frames per stream before console lines and log records are shed (spec: 2048). */
export const LINK_QUEUE_CAPACITY = 2048;
/** The controller is presumed gone after this many heartbeat intervals without any frame. */
const CONTROLLER_SILENCE_INTERVALS = 3;
const DEFAULT_HELLO_TIMEOUT_MS = 5000;
/** Crash reports kept while disconnected; the oldest go first past this. */
const MAX_PENDING_CRASHES = 256;
const DEFAULT_SILENCE_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3000;

export interface LinkSettings {
  reconnect: BackoffSettings;
  labels: Record<string, string>;
  advertiseAddress: string;
  daemonVersion: string;
  maxMemoryMb: number;
  /** filesystem whose free space is reported (the instances directory) */
  diskPath: string;
  /** a controller that has not answered Hello within this is skipped for the next endpoint */
  helloTimeoutMs?: number;
  /**
   * the controller is presumed gone (paused, partitioned) after this long without any frame; it
   * pings at a third of its session lease, so this stays below the lease and the node's session
   * moves to another controller as soon as the lease lets it
   */
  silenceTimeoutMs?: number;
}

export interface LinkDeps {
  identity: NodeIdentity;
  /** controller gRPC addresses, the configured one first; addresses learned later are appended */
  endpoints: string[];
  supervisor: LinkSupervisor;
  commands?: LinkCommands;
  /** answers to FetchArtifact (template layers, runtimes) are routed here */
  artifacts?: ArtifactFetcher;
  log: Logger;
  settings: LinkSettings;
  random?: () => number;
  /** time, the hello/heartbeat/watchdog timers and the redial sleep (system clock when absent) */
  clock?: Clock;
  /** the controller sent ShutdownNode (a finished drain, or `POST /nodes/{id}/shutdown`) */
  onShutdown?: (reason: string) => void;
}

export type LinkStatus = "idle" | "connecting" | "connected" | "stopped";

interface SessionOutcome {
  established: boolean;
  reason: string;
  /** the controller stopped answering (Hello timeout, silence watchdog) rather than refusing */
  silent?: boolean;
  code?: Status;
}

type DaemonFrame = NonNullable<DaemonMessage["frame"]>;

/**
 * The daemon's one stream to a controller, kept up for the life of the process: dial with the
 * node certificate, Hello with the actual state of every supervised process, heartbeats on the
 * interval the controller asked for, answer pings, hand commands to the supervisor, and on any
 * break redial with exponential backoff and jitter, rotating through known controllers.
 */
export class DaemonLink {
  private status: LinkStatus = "idle";
  private stopping = false;
  private loop: Promise<void> | undefined;
  private outbound: FrameQueue<DaemonMessage> | undefined;
  private abortSession: AbortController | undefined;
  private sessionDone: Promise<SessionOutcome> | undefined;
  private wakeSleeper: AbortController | undefined;
  private readonly clock: Clock;
  private readonly fence = new FenceGuard();
  private readonly pendingCrashes: CrashReport[] = [];
  private readonly backoff: Backoff;
  private readonly metrics: HostMetrics;
  private readonly rotation: EndpointRotation;
  private readonly log: Logger;
  /** sessions that reached HelloAck, since start */
  established = 0;
  /** why the last session ended or was refused */
  lastFailure: string | undefined;

  constructor(private readonly deps: LinkDeps) {
    this.clock = deps.clock ?? systemClock;
    this.backoff = new Backoff(deps.settings.reconnect, deps.random);
    this.metrics = new HostMetrics({
      maxMemoryMb: deps.settings.maxMemoryMb,
      diskPath: deps.settings.diskPath,
    });
    // A silent controller is passed over for a while; 30 s covers a few failovers' worth of turns.
    this.rotation = new EndpointRotation(deps.endpoints, 30_000, () => this.clock.now());
    this.log = deps.log.child({ component: "link", nodeId: deps.identity.nodeId });
  }

  get state(): LinkStatus {
    return this.status;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Says goodbye (the controller marks the node OFFLINE, not UNREACHABLE) and stops redialling. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeSleeper?.abort();
    if (this.outbound && this.sessionDone) {
      this.outbound.close();
      const timeout = this.clock.sleep(STOP_GRACE_MS).then(() => "timeout" as const);
      if ((await Promise.race([this.sessionDone, timeout])) === "timeout") this.abortSession?.abort();
    }
    await this.loop;
    this.status = "stopped";
  }

  /** An instance changed state: reported at once (the heartbeat would only catch up later). */
  reportInstance(instance: LinkInstance): void {
    this.push({ case: "instanceUpdate", value: toReport(instance) });
  }

  reportCrash(report: CrashReport): void {
    if (this.status === "connected") {
      this.push({ case: "crashReport", value: report });
      return;
    }
    // Hello carries every instance's state but not why one crashed: kept for the next session.
    this.pendingCrashes.push(report);
    if (this.pendingCrashes.length > MAX_PENDING_CRASHES) this.pendingCrashes.shift();
  }

  /** Best effort: shed first when the stream is backed up, dropped while disconnected. */
  reportConsoleLine(instanceId: string, line: string, timestampMs: number): void {
    this.push({
      case: "consoleLine",
      value: { instanceId, line, timestampMs, stream: 1, sequence: 0, droppedBefore: 0 },
    });
  }

  /** Asks the controller for an artifact; false when there is no session to ask on. */
  requestArtifact(request: FetchArtifact): boolean {
    if (this.status !== "connected") return false;
    this.push({ case: "fetchArtifact", value: request });
    return true;
  }

  private push(frame: DaemonFrame): void {
    if (this.status !== "connected") return;
    this.outbound?.push(DaemonMessage.create({ frame }));
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const endpoint = this.rotation.current();
      this.status = "connecting";
      this.sessionDone = this.session(endpoint);
      const outcome = await this.sessionDone;
      this.sessionDone = undefined;
      if (this.stopping) break;
      this.lastFailure = outcome.reason;
      if (outcome.established) this.backoff.reset();
      this.rotation.ended(outcome.silent === true, outcome.established);
      const delayMs = this.backoff.next();
      const refused = outcome.code === Status.UNAUTHENTICATED || outcome.code === Status.PERMISSION_DENIED;
      this.log[refused ? "error" : "warn"](
        { endpoint, delayMs, reason: outcome.reason },
        refused ? "controller refused this node; retrying later" : "controller link down; reconnecting",
      );
      await this.sleep(delayMs);
    }
    this.status = "stopped";
  }

  private async session(endpoint: string): Promise<SessionOutcome> {
    const { identity } = this.deps;
    const channel = nodeChannel(endpoint, identity);
    const outbound = new FrameQueue<DaemonMessage>({
      capacity: LINK_QUEUE_CAPACITY,
      isSheddable: (m) => m.frame?.case === "consoleLine" || m.frame?.case === "logRecord",
    });
    const abort = new AbortController();
    this.outbound = outbound;
    this.abortSession = abort;
    let established = false;
    const clock = this.clock;
    let heartbeat: TimerHandle | undefined;
    let watchdog: TimerHandle | undefined;
    let lastHeard = clock.now();
    let endReason = "controller closed the stream";
    let silent = false;
    // A paused or wedged controller still completes TCP handshakes: no HelloAck in time, next one.
    const helloTimeoutMs = this.deps.settings.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS;
    const helloTimer = clock.setTimeout(() => {
      if (established) return;
      endReason = `no HelloAck within ${helloTimeoutMs} ms`;
      silent = true;
      abort.abort();
    }, helloTimeoutMs);

    outbound.push(DaemonMessage.create({ frame: { case: "hello", value: this.hello() } }));
    try {
      const client = createClient(DaemonServiceDefinition, channel);
      for await (const message of client.connect(outbound, { signal: abort.signal })) {
        lastHeard = clock.now();
        const frame = message.frame;
        if (frame?.case === "helloAck") {
          if (!this.accept(frame.value)) {
            endReason = `controller speaks protocol ${frame.value.protocolVersion}: upgrade required`;
            abort.abort();
            break;
          }
          established = true;
          this.rotation.connected();
          this.established++;
          this.status = "connected";
          for (const report of this.pendingCrashes.splice(0))
            this.push({ case: "crashReport", value: report });
          const interval = frame.value.heartbeatIntervalMs > 0 ? frame.value.heartbeatIntervalMs : 30_000;
          heartbeat = clock.setInterval(() => outbound.push(this.heartbeat()), interval);
          const silenceLimitMs = Math.min(
            interval * CONTROLLER_SILENCE_INTERVALS,
            this.deps.settings.silenceTimeoutMs ?? DEFAULT_SILENCE_TIMEOUT_MS,
          );
          watchdog = clock.setInterval(
            () => {
              if (clock.now() - lastHeard > silenceLimitMs) {
                endReason = `no frame from the controller for ${silenceLimitMs} ms`;
                silent = true;
                abort.abort();
              }
            },
            Math.max(50, Math.floor(silenceLimitMs / 4)),
          );
          this.log.info(
            { endpoint, sessionId: frame.value.sessionId, epoch: message.epoch, heartbeatMs: interval },
            "connected to controller",
          );
          continue;
        }
        if (established) this.handle(message, outbound);
      }
      return { established, reason: endReason, silent };
    } catch (err) {
      if (abort.signal.aborted) return { established, reason: endReason, silent };
      if (err instanceof ClientError) {
        return { established, reason: `${Status[err.code]}: ${err.details}`, code: err.code };
      }
      return { established, reason: (err as Error).message ?? String(err) };
    } finally {
      clock.clearTimeout(helloTimer);
      clock.clearInterval(heartbeat);
      clock.clearInterval(watchdog);
      this.deps.artifacts?.abortAll("the controller link went down");
      outbound.close();
      if (this.outbound === outbound) this.outbound = undefined;
      channel.close();
      if (!this.stopping) this.status = "connecting";
    }
  }

  private accept(ack: HelloAck): boolean {
    if (!ack.protocolCompatible) return false;
    if (this.fence.onHelloAck(ack.epoch)) {
      this.log.warn(
        { epoch: ack.epoch },
        "controller epoch went backwards (coordination state reset): fencing floors cleared",
      );
    }
    this.learnControllers(ack.controllerGrpcAddrs);
    return true;
  }

  private learnControllers(addrs: readonly string[]): void {
    const learned = this.rotation.learn(addrs);
    if (learned.length > 0) {
      this.log.info(
        { learned, endpoints: this.rotation.endpoints },
        "learned controller endpoints for failover",
      );
    }
  }

  private handle(message: ControllerMessage, outbound: FrameQueue<DaemonMessage>): void {
    const frame = message.frame;
    if (!frame) return; // newer frame type: ignored by contract
    const verdict = this.fence.check(message);
    if (!verdict.ok) {
      this.log.warn(
        { frame: frame.case, code: FrameErrorCode[verdict.code] },
        `controller command dropped: ${verdict.message}`,
      );
      outbound.push(errorFrame(verdict.code, verdict.message, instanceIdOf(frame)));
      return;
    }
    const reply = (value: DaemonFrame) => outbound.push(DaemonMessage.create({ frame: value }));
    applyControllerFrame(frame, {
      reply,
      commands: this.deps.commands,
      artifacts: this.deps.artifacts,
      log: this.log,
      runningInstances: () => this.deps.supervisor.snapshot().length,
      onShutdown: this.deps.onShutdown,
      onControllers: (addrs) => this.learnControllers(addrs),
    });
  }

  private hello(): Hello {
    const { identity, supervisor, settings } = this.deps;
    return Hello.create({
      nodeId: identity.nodeId,
      daemonVersion: settings.daemonVersion,
      protocolVersion: PROTOCOL_VERSION,
      capacity: this.metrics.capacity(),
      labels: settings.labels,
      runningInstances: supervisor
        .snapshot()
        .filter((s) => !s.startRefused)
        .map(toReport),
      advertiseAddress: settings.advertiseAddress,
      host: hostInfo(),
      highestEpochSeen: this.fence.highestEpoch,
      usedPorts: [...supervisor.usedPorts()],
    });
  }

  private heartbeat(): DaemonMessage {
    const { supervisor } = this.deps;
    return DaemonMessage.create({
      frame: {
        case: "heartbeat",
        value: Heartbeat.create({
          capacity: this.metrics.capacity(),
          instances: supervisor.snapshot().map(toReport),
          usedPorts: [...supervisor.usedPorts()],
          sentAtMs: this.clock.now(),
        }),
      },
    });
  }

  /** The redial wait; stop() ends it early. */
  private sleep(ms: number): Promise<void> {
    const wake = new AbortController();
    this.wakeSleeper = wake;
    return this.clock.sleep(ms, wake.signal);
  }
}

function toReport(instance: LinkInstance): InstanceReport {
  return InstanceReport.create({
    instanceId: instance.instanceId,
    group: instance.group,
    state: INSTANCE_STATE_NUMBERS[instance.state],
    port: instance.port,
    playerCount: instance.playerCount ?? 0,
    maxPlayers: instance.maxPlayers ?? 0,
    playerSample: [...(instance.playerSample ?? [])],
    playerSampleIds: [...(instance.playerSampleIds ?? [])],
    uptimeMs: instance.uptimeMs,
    planHash: instance.planHash,
    detail: instance.detail ?? "",
  });
}

function errorFrame(code: FrameErrorCode, message: string, instanceId: string): DaemonMessage {
  return DaemonMessage.create({
    frame: { case: "error", value: ErrorReport.create({ code, message, instanceId }) },
  });
}

function instanceIdOf(frame: NonNullable<ControllerMessage["frame"]>): string {
  const value = frame.value as { instanceId?: unknown };
  return typeof value.instanceId === "string" ? value.instanceId : "";
}
