import { ServerError, Status } from "nice-grpc";
import type { Coordination, Lease } from "../../coord/port.ts";
import { systemClock } from "../../core/clock.ts";
import type { Logger } from "../../log/logger.ts";
import type { Fence } from "../../store/port.ts";
import { FrameQueue, type PushOutcome } from "../../wire/frame-queue.ts";
import {
  ControllerMessage,
  type DaemonMessage,
  FrameErrorCode,
  type Hello,
  HelloAck,
  MIN_SUPPORTED_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
} from "../../wire/index.ts";
import type { EventPublisher } from "../events/event-types.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { CertRevocations } from "../nodes/cert-revocations.ts";
import type { InstanceReconciler } from "../nodes/instance-reconciler.ts";
import type { LivenessSweeper } from "../nodes/liveness-sweeper.ts";
import type { NodeInstanceReport } from "../nodes/node-doc.ts";
import type { NodeService } from "../nodes/node-service.ts";
import type { PeerIdentity } from "../pki/index.ts";
import { capacityFromWire, hostFromWire, type IncomingFrame, instanceFromWire } from "./daemon-frames.ts";
import type { LiveSession, SessionRegistry } from "./session-registry.ts";
import { peerHost } from "./transport-guard.ts";

/** Outbound frames per stream before pings give way (spec: 2048). */
export const OUTBOUND_QUEUE_CAPACITY = 2048;
/** How long a Hello waits for the node's previous controller to hand it over, and how often it looks. */
const HANDOVER_WAIT_MS = 2_000;
const HANDOVER_POLL_MS = 100;

export interface SessionDeps {
  controllerId: string;
  coord: Coordination;
  nodes: NodeService;
  reconciler: InstanceReconciler;
  revocations: CertRevocations;
  registry: SessionRegistry;
  sweeper: LivenessSweeper;
  log: Logger;
  heartbeatIntervalMs: number;
  missedThreshold: number;
  /** TTL of the `node:<id>` session lease (default: heartbeat × missed) */
  sessionLeaseMs?: number;
  /** every live controller's advertised gRPC addresses, sent in HelloAck */
  controllerDirectory?: () => Promise<string[]>;
  /** REST base URL daemons download runtimes from; empty lets the daemon derive it */
  controllerApiUrl: string;
  controllerGrpcAddrs: string[];
  /** NODE_CONNECTED / NODE_DISCONNECTED for SSE clients and other controllers */
  events?: EventPublisher;
  /** prexorcloud_grpc_daemon_messages_in_total / _out_total */
  metrics?: Pick<Metrics, "daemonMessageIn" | "daemonMessageOut">;
  now?: () => number;
}

type Phase = "awaiting-hello" | "open" | "ended";

/**
 * One daemon's stream on this controller.
 *
 * Incoming frames are handled one at a time in arrival order (each store write finishes before the
 * next frame is looked at), outgoing frames go through one FrameQueue, and the session owns the
 * node lease `node:<id>` while open: its fencing token is the epoch stamped on every frame, so a
 * controller that lost the node cannot be obeyed, and a second controller cannot take a node whose
 * session is alive elsewhere.
 */
export class DaemonSession implements LiveSession {
  readonly sessionId = crypto.randomUUID();
  readonly nodeId: string;
  readonly certSerial: string;
  private readonly outbound = new FrameQueue<ControllerMessage>({
    capacity: OUTBOUND_QUEUE_CAPACITY,
    // Only liveness probes are expendable: the next tick sends another.
    isSheddable: (message) => message.frame?.case === "ping",
  });
  private phase: Phase = "awaiting-hello";
  private acked = false;
  private early: NonNullable<ControllerMessage["frame"]>[] = [];
  private lease: Lease | undefined;
  /** when the node lease was last acquired or renewed: past its TTL it may be someone else's */
  private leaseHeldAt = 0;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pingSequence = 0;
  private lastHeardAt: number;
  private instanceSignature = "";
  /** the controller list the daemon last received from this session, sorted and joined */
  private sentAddrs = "";
  private readonly log: Logger;
  private cleanup: Promise<void> | undefined;

  constructor(
    private readonly deps: SessionDeps,
    private readonly identity: PeerIdentity,
    private readonly peer: string,
  ) {
    this.nodeId = identity.commonName;
    this.certSerial = identity.serialNumber;
    this.lastHeardAt = this.now();
    this.log = deps.log.child({ nodeId: this.nodeId, sessionId: this.sessionId });
  }

  /** The stream's outbound side; ends (or throws the status) when the session ends. */
  async *run(requests: AsyncIterable<IncomingFrame>, signal: AbortSignal): AsyncGenerator<ControllerMessage> {
    if (await this.deps.revocations.isRevoked(this.identity)) {
      this.log.warn(
        { peer: this.peer, serial: this.certSerial },
        "daemon stream refused: client certificate revoked",
      );
      throw new ServerError(Status.UNAUTHENTICATED, "Client certificate revoked");
    }
    const onAbort = () => this.end("stream cancelled", { graceful: false });
    signal.addEventListener("abort", onAbort);
    void this.readLoop(requests);
    try {
      yield* this.outbound;
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.end("stream closed", { graceful: false });
      await this.cleanup;
    }
  }

  send(frame: NonNullable<ControllerMessage["frame"]>): PushOutcome {
    if (this.phase !== "open") return "closed";
    if (!this.acked) {
      // Between registration and HelloAck: held, since the daemon drops whatever precedes the ack.
      this.early.push(frame);
      return "queued";
    }
    return this.push(frame);
  }

  end(reason: string, options: { graceful: boolean; code?: "UNAUTHENTICATED" | "UNAVAILABLE" }): void {
    this.finish(reason, options.graceful, options.code ? Status[options.code] : undefined);
  }

  private async readLoop(requests: AsyncIterable<IncomingFrame>): Promise<void> {
    try {
      for await (const message of requests) {
        if (this.phase === "ended") return;
        this.lastHeardAt = this.now();
        this.deps.metrics?.daemonMessageIn(message.frame?.case ?? "unknown");
        if (message.undecodable !== undefined) {
          this.log.warn(
            { peer: this.peer, reason: message.undecodable },
            "daemon sent a frame that does not decode",
          );
          this.finish(`undecodable frame: ${message.undecodable}`, false, Status.INVALID_ARGUMENT);
          return;
        }
        await this.handle(message);
      }
      this.finish("daemon closed the stream", true);
    } catch (err) {
      this.finish(`stream broke: ${(err as Error).message}`, false);
    }
  }

  private async handle(message: DaemonMessage): Promise<void> {
    const frame = message.frame;
    if (this.phase === "awaiting-hello") {
      if (frame?.case !== "hello") {
        this.log.warn({ frame: frame?.case ?? "unknown" }, "daemon stream refused: first frame is not Hello");
        this.finish("first frame must be Hello", false, Status.FAILED_PRECONDITION);
        return;
      }
      await this.onHello(frame.value);
      return;
    }
    if (!frame) return; // a frame type newer than this controller: ignored by contract
    switch (frame.case) {
      case "heartbeat": {
        const instances = frame.value.instances.map(instanceFromWire);
        const changed = this.instancesChanged(instances);
        await this.deps.nodes.recordHeartbeat(this.nodeId, {
          capacity: capacityFromWire(frame.value.capacity),
          usedPorts: frame.value.usedPorts,
          instances: changed ? instances : undefined,
        });
        // Every heartbeat is the node's full state: compared with the records each time, so a start
        // or stop that was lost on the way is repaired even when nothing changed on the node.
        await this.deps.reconciler.reconcile(this.nodeId, instances, this.writeFence());
        return;
      }
      case "pong":
        return;
      case "hello":
        this.rejectFrame(FrameErrorCode.INVALID_FRAME, "Hello was already received on this stream");
        return;
      case "instanceUpdate":
        await this.deps.reconciler.update(this.nodeId, instanceFromWire(frame.value), this.writeFence());
        break;
      case "error":
        this.log.warn(
          {
            code: FrameErrorCode[frame.value.code],
            message: frame.value.message,
            instanceId: frame.value.instanceId,
          },
          "daemon reported an error",
        );
        break;
    }
    await this.deps.registry.emitFrame(this.nodeId, frame, this.writeFence());
  }

  private async onHello(hello: Hello): Promise<void> {
    const { deps } = this;
    const version = hello.protocolVersion;
    if (version < MIN_SUPPORTED_PROTOCOL_VERSION || version > PROTOCOL_VERSION) {
      this.log.warn(
        { daemonProtocol: version, supported: `${MIN_SUPPORTED_PROTOCOL_VERSION}..${PROTOCOL_VERSION}` },
        "daemon stream refused: unsupported protocol version",
      );
      this.push({
        case: "helloAck",
        value: HelloAck.create({
          protocolVersion: PROTOCOL_VERSION,
          protocolCompatible: false,
          controllerId: deps.controllerId,
        }),
      });
      this.finish(`Unsupported daemon protocol version: ${version}`, false, Status.FAILED_PRECONDITION, true);
      return;
    }
    if (hello.nodeId !== this.nodeId) {
      this.log.warn(
        { helloNodeId: hello.nodeId },
        "daemon stream refused: Hello.node_id differs from the certificate CN",
      );
      this.finish(
        `Hello.node_id "${hello.nodeId}" does not match the client certificate ("${this.nodeId}")`,
        false,
        Status.PERMISSION_DENIED,
      );
      return;
    }
    let lease: Lease | null;
    try {
      lease = await this.acquireNodeLease();
    } catch (err) {
      this.log.warn({ err }, "daemon stream refused: coordination store unavailable");
      this.finish("coordination store unavailable; retry", false, Status.UNAVAILABLE);
      return;
    }
    if (!lease) {
      this.log.info("daemon stream refused: the node's session is still owned by another controller");
      this.finish("node is still connected to another controller; retry shortly", false, Status.UNAVAILABLE);
      return;
    }
    if (this.phase === "ended") return;
    this.lease = lease;
    this.leaseHeldAt = this.now();
    this.phase = "open";
    deps.registry.register(this);

    const instances = hello.runningInstances.map(instanceFromWire);
    this.instanceSignature = signatureOf(instances);
    const doc = await deps.nodes.markConnected(this.nodeId, {
      sessionId: this.sessionId,
      controllerId: deps.controllerId,
      daemonVersion: hello.daemonVersion,
      protocolVersion: version,
      labels: { ...hello.labels },
      capacity: capacityFromWire(hello.capacity),
      usedPorts: hello.usedPorts,
      instances,
      address: hello.advertiseAddress || peerHost(this.peer),
      host: hostFromWire(hello.host),
      certSerial: this.certSerial,
    });
    deps.sweeper.cancelLostCheck(this.nodeId);
    const helloAddrs = await this.controllerAddrs();
    this.sentAddrs = [...helloAddrs].sort().join(",");
    // HelloAck first: the daemon ignores every frame before it, so the starts and stops the
    // reconciliation below re-sends would otherwise be dropped on the floor.
    this.push({
      case: "helloAck",
      value: HelloAck.create({
        sessionId: this.sessionId,
        protocolVersion: PROTOCOL_VERSION,
        protocolCompatible: true,
        heartbeatIntervalMs: deps.heartbeatIntervalMs,
        controllerApiUrl: deps.controllerApiUrl,
        epoch: lease.token,
        controllerGrpcAddrs: helloAddrs,
        controllerId: deps.controllerId,
      }),
    });
    this.acked = true;
    for (const early of this.early.splice(0)) this.push(early);
    deps.registry.emitOpen(
      this.nodeId,
      instances.filter((i) => i.state !== "STOPPED" && i.state !== "CRASHED").map((i) => i.instanceId),
    );
    this.pingTimer = setInterval(() => void this.tick(), this.tickMs());
    await deps.reconciler.reconcile(this.nodeId, instances, this.writeFence());
    this.log.info(
      {
        peer: this.peer,
        state: doc.state,
        epoch: lease.token,
        instances: instances.length,
        version: hello.daemonVersion,
      },
      "daemon connected",
    );
    this.publish({ type: "NODE_CONNECTED", payload: { nodeId: this.nodeId, sessionId: this.sessionId } });
  }

  /**
   * Takes `node:<id>`. When another controller still holds it, the node is asked to be handed over:
   * the daemon keeps one stream at a time, so its Hello here means it left the old one, and the old
   * holder lets go at once if it has not heard from the node lately (see `yieldIfSilent`). That
   * moves a node cut from its controller in about the daemon's own silence limit instead of the
   * old holder's missed-heartbeat window plus the lease TTL. A holder that still hears the node
   * keeps it, and this Hello is refused as before.
   */
  private async acquireNodeLease(): Promise<Lease | null> {
    const { deps } = this;
    const acquire = () =>
      deps.coord.acquireLease(`node:${this.nodeId}`, deps.controllerId, this.sessionLeaseMs());
    let lease = await acquire();
    if (lease || !deps.registry.requestHandover(this.nodeId)) return lease;
    const deadline = this.now() + HANDOVER_WAIT_MS;
    while (!lease && this.phase !== "ended" && this.now() < deadline) {
      await systemClock.sleep(HANDOVER_POLL_MS);
      lease = await acquire();
      // Asked again each turn: the holder may not yet have counted the node silent at the first.
      if (!lease) deps.registry.requestHandover(this.nodeId);
    }
    if (lease) this.log.info("node handed over by its previous controller");
    return lease;
  }

  /**
   * Another controller got this node's Hello. Ends this session when the node has been silent for
   * two ping periods (its stream here is dead, whatever TCP says); says whether it did.
   */
  yieldIfSilent(): boolean {
    if (this.phase !== "open") return false;
    const silentMs = this.now() - this.lastHeardAt;
    if (silentMs <= 2 * this.tickMs()) return false;
    this.log.warn({ silentMs }, "node said Hello to another controller and is silent here: handing it over");
    this.finish("the node moved to another controller", false, Status.UNAVAILABLE);
    return true;
  }

  private async controllerAddrs(): Promise<string[]> {
    const own = this.deps.controllerGrpcAddrs;
    if (!this.deps.controllerDirectory) return own;
    try {
      return [...new Set([...own, ...(await this.deps.controllerDirectory())])];
    } catch {
      return own; // coordination down: the daemon keeps the list it has
    }
  }

  private async tick(): Promise<void> {
    if (this.phase !== "open") return;
    const { heartbeatIntervalMs, missedThreshold } = this.deps;
    const silentMs = this.now() - this.lastHeardAt;
    if (silentMs > heartbeatIntervalMs * missedThreshold) {
      this.log.warn({ silentMs }, "daemon missed heartbeats: marking it unreachable");
      this.finish(`missed ${missedThreshold} heartbeats`, false, Status.UNAVAILABLE);
      return;
    }
    if (this.lease) {
      try {
        if (!(await this.deps.coord.renewLease(this.lease, this.sessionLeaseMs()))) {
          this.log.warn("node lease lost to another controller: closing the session");
          this.finish("node ownership moved to another controller", false, Status.UNAVAILABLE);
          return;
        }
        this.leaseHeldAt = this.now();
      } catch (err) {
        // A coordination blip is not a reason to drop a healthy daemon; the next tick retries. Past
        // the lease's TTL it is: this controller can no longer prove it owns the node, commands
        // relayed to it through coordination cannot arrive, and the daemon, whose stream looks
        // healthy, would never move to a controller that can act.
        // Judged one tick ahead: if the next attempt would come after the lease ran out, it can no
        // longer be kept, and waiting for that tick only holds the node where nothing can reach it.
        if (this.now() - this.leaseHeldAt + this.tickMs() >= this.sessionLeaseMs()) {
          this.log.warn(
            { err },
            "node lease not renewable within its TTL: closing the session so the node moves",
          );
          this.finish("coordination unreachable; node lease expired", false, Status.UNAVAILABLE);
          return;
        }
        this.log.warn({ err }, "could not renew the node lease");
      }
    }
    this.pingSequence++;
    this.push({
      case: "ping",
      value: { sequence: this.pingSequence, controllerGrpcAddrs: await this.changedControllerAddrs() },
    });
  }

  /**
   * The controllers' addresses when they changed since the daemon last heard them (HelloAck or an
   * earlier ping), else none. The directory read behind it is cached for all sessions.
   */
  private async changedControllerAddrs(): Promise<string[]> {
    const addrs = await this.controllerAddrs();
    const signature = [...addrs].sort().join(",");
    if (signature === this.sentAddrs) return [];
    this.sentAddrs = signature;
    return addrs;
  }

  /**
   * The node session's fence for record writes driven by the daemon's reports: a controller that
   * was paused past the lease TTL while another took the node over carries an older epoch, and the
   * store refuses its late writes. Undefined only before the lease is held (no writes then).
   */
  writeFence(): Fence | undefined {
    return this.lease ? { scope: `node:${this.nodeId}`, token: this.lease.token } : undefined;
  }

  private push(frame: NonNullable<ControllerMessage["frame"]>): PushOutcome {
    const outcome = this.outbound.push(ControllerMessage.create({ epoch: this.lease?.token ?? 0, frame }));
    // Queued counts as delivered: the frame is on the session's stream unless the session ends.
    this.deps.metrics?.daemonMessageOut(frame.case, outcome === "queued" ? "delivered" : "dropped");
    if (outcome === "overflow") {
      this.log.warn("outbound queue overflowed: the daemon is not reading; closing the session");
      this.finish("outbound queue overflow", false, Status.RESOURCE_EXHAUSTED);
    }
    return outcome;
  }

  private rejectFrame(code: FrameErrorCode, message: string): void {
    this.log.warn({ code: FrameErrorCode[code] }, message);
    this.push({
      case: "error",
      value: { code, message, requestId: "", instanceId: "", details: {}, retryAfterSeconds: 0 },
    });
  }

  /**
   * Ends the session once. `graceful` means the daemon went away on purpose (or was revoked):
   * OFFLINE rather than UNREACHABLE. `code` sends a status to the daemon; `flush` lets queued frames
   * (a HelloAck explaining the refusal) out first.
   */
  private finish(reason: string, graceful: boolean, code?: Status, flush = false): void {
    if (this.phase === "ended") return;
    const wasOpen = this.phase === "open";
    this.phase = "ended";
    clearInterval(this.pingTimer);
    if (code === undefined) this.outbound.close();
    else if (flush) this.outbound.close(new ServerError(code, reason));
    else this.outbound.fail(new ServerError(code, reason));
    if (wasOpen) this.cleanup = this.afterOpenSession(reason, graceful);
  }

  private async afterOpenSession(reason: string, graceful: boolean): Promise<void> {
    const { deps } = this;
    const current = deps.registry.unregister(this);
    try {
      const doc = await deps.nodes.markDisconnected(this.nodeId, this.sessionId, reason, graceful);
      if (doc?.disconnectedAt != null) deps.sweeper.scheduleLostCheck(this.nodeId, doc.disconnectedAt);
      this.log.info({ reason, state: doc?.state ?? "unchanged" }, "daemon disconnected");
      if (doc) this.publish({ type: "NODE_DISCONNECTED", payload: { nodeId: this.nodeId, reason } });
    } catch (err) {
      this.log.warn({ err, reason }, "could not record the disconnect");
    }
    // A newer session of the same node on this controller shares the lease (same holder): keep it.
    if (this.lease && current && !deps.registry.get(this.nodeId)) {
      await deps.coord.releaseLease(this.lease).catch(() => false);
    }
  }

  private publish(event: Parameters<EventPublisher["publish"]>[0]): void {
    this.deps.events?.publish(event).catch((err: unknown) => {
      this.log.debug({ err }, "could not publish a node event");
    });
  }

  private instancesChanged(instances: NodeInstanceReport[]): boolean {
    const signature = signatureOf(instances);
    if (signature === this.instanceSignature) return false;
    this.instanceSignature = signature;
    return true;
  }

  private now(): number {
    return (this.deps.now ?? systemClock.now)();
  }

  /**
   * The `node:<id>` lease is the session's, short and renewed by the stream holder, so a node whose
   * controller died moves to another within seconds; the 90 s heartbeat window only decides when
   * the node itself counts as unreachable.
   */
  private sessionLeaseMs(): number {
    return this.deps.sessionLeaseMs ?? this.deps.heartbeatIntervalMs * this.deps.missedThreshold;
  }

  /** Pings (and lease renewals) at a third of the session lease, or the heartbeat if that is sooner. */
  private tickMs(): number {
    return Math.max(50, Math.min(this.deps.heartbeatIntervalMs, Math.floor(this.sessionLeaseMs() / 3)));
  }
}

function signatureOf(instances: readonly NodeInstanceReport[]): string {
  return instances
    .map((i) => `${i.instanceId}:${i.state}:${i.port}`)
    .sort()
    .join("|");
}
