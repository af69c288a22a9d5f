/**
 * A simulated daemon: a real DaemonService client over mTLS with a CA-signed node certificate, but no
 * processes. It answers StartInstance with an accepted StartInstanceAck and an InstanceReport RUNNING,
 * StopInstance with STOPPED, ShutdownNode with its ack (and records it), so instance state reaches the
 * store through the controller's own link, lifecycle and reconciler. Tests set player counts through
 * it, as a daemon relaying its instances' reports would.
 */
import { type Channel, ChannelCredentials, createChannel, createClient } from "nice-grpc";
import { type ClusterCa, signNodeCsr } from "../../src/controller/pki/index.ts";
import { createNodeKeyAndCsr } from "../../src/daemon/pki/csr.ts";
import { FrameQueue } from "../../src/wire/frame-queue.ts";
import {
  CONTROLLER_TLS_SERVER_NAME,
  type ControllerMessage,
  DaemonMessage,
  DaemonServiceDefinition,
  ErrorReport,
  FrameErrorCode,
  Heartbeat,
  Hello,
  InstanceReport,
  InstanceState,
  NodeCapacity,
  PROTOCOL_VERSION,
  type StartInstance,
  StartInstanceAck,
  StopInstanceAck,
} from "../../src/wire/index.ts";

export interface NodeCredentials {
  nodeId: string;
  caPem: string;
  privateKeyPem: string;
  certificatePem: string;
}

/** What the controller asked this node to run, as the daemon saw it on the wire. */
export interface SimInstance {
  readonly instanceId: string;
  readonly group: string;
  readonly port: number;
  readonly memoryMb: number;
  readonly planHash: string;
  players: number;
}

export async function issueNodeCredentials(ca: ClusterCa, nodeId: string): Promise<NodeCredentials> {
  const { privateKeyPem, csrDer } = await createNodeKeyAndCsr(nodeId);
  const issued = await signNodeCsr(ca, { nodeId, csr: csrDer, now: new Date() });
  return { nodeId, caPem: ca.certificatePem, privateKeyPem, certificatePem: issued.certificatePem };
}

type Frame = NonNullable<DaemonMessage["frame"]>;

export class SimulatedDaemon {
  /** StartInstance frames received, including re-dispatches */
  starts = 0;
  /** When each StartInstance arrived (performance.now()), in order; benchmarks read it */
  readonly startLog: Array<{ instanceId: string; planHash: string; at: number }> = [];
  /** StartInstance frames that arrived without a sealed plan, a plan hash or a port */
  malformedStarts = 0;
  readonly running = new Map<string, SimInstance>();
  readonly stopReasons = new Map<string, string>();
  readonly shutdowns: string[] = [];
  /** Live sessions' HelloAck count; a reconnect increments it. */
  sessions = 0;
  /** Like the real daemon link: frames that arrive before HelloAck are dropped. */
  dropBeforeAck = false;
  /** Commands of these kinds are lost on the way (a relay nobody delivered, a broken stream). */
  readonly lose = new Set<"startInstance" | "stopInstance">();
  /** StartInstance is refused with STALE_FENCE, as a daemon that saw a newer group fence does. */
  refuseStaleStarts = false;
  private ackedSession = false;
  private outbound: FrameQueue<DaemonMessage> | undefined;
  private channel: Channel | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    readonly credentials: NodeCredentials,
    private readonly options: { memoryMb: number; labels?: Record<string, string> },
  ) {}

  get nodeId(): string {
    return this.credentials.nodeId;
  }

  /** Opens a session to `address` and resolves once the controller's HelloAck arrived. */
  async connect(address: string): Promise<void> {
    // A reconnect (to the same or another controller) replaces the previous channel.
    this.outbound?.close();
    this.channel?.close();
    const { caPem, privateKeyPem, certificatePem } = this.credentials;
    const channel = createChannel(
      address,
      ChannelCredentials.createSsl(
        Buffer.from(caPem),
        Buffer.from(privateKeyPem),
        Buffer.from(certificatePem),
      ),
      { "grpc.ssl_target_name_override": CONTROLLER_TLS_SERVER_NAME },
    );
    this.channel = channel;
    const outbound = new FrameQueue<DaemonMessage>({ capacity: 100_000, isSheddable: () => false });
    this.outbound = outbound;
    this.push({ case: "hello", value: this.hello() });
    let acked: () => void = () => {};
    let failed: (err: unknown) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      acked = resolve;
      failed = reject;
    });
    const client = createClient(DaemonServiceDefinition, channel);
    this.loop = (async () => {
      try {
        this.ackedSession = false;
        for await (const message of client.connect(outbound)) {
          const frame = message.frame;
          if (frame?.case === "helloAck") {
            this.sessions++;
            this.ackedSession = true;
            acked();
          } else if (frame !== undefined && (this.ackedSession || !this.dropBeforeAck)) this.handle(frame);
        }
      } catch (err) {
        failed(err);
      }
    })();
    await ready;
  }

  /** Closes the stream (the controller sees a goodbye) and the channel. */
  async disconnect(): Promise<void> {
    this.outbound?.close();
    await this.loop;
    this.channel?.close();
    this.outbound = undefined;
  }

  /** Reports the instance's new player count, as the daemon relays its server's count. */
  setPlayers(instanceId: string, players: number): void {
    const inst = this.running.get(instanceId);
    if (inst === undefined) throw new Error(`${this.nodeId} does not run ${instanceId}`);
    inst.players = players;
    this.report(inst, InstanceState.RUNNING);
  }

  /** A full-state Heartbeat, as a real daemon sends on its interval. */
  heartbeat(): void {
    this.push({
      case: "heartbeat",
      value: Heartbeat.create({
        capacity: this.hello().capacity,
        instances: this.hello().runningInstances,
        usedPorts: [...this.running.values()].map((i) => i.port),
        sentAtMs: Date.now(),
      }),
    });
  }

  private handle(frame: NonNullable<ControllerMessage["frame"]>): void {
    if ((frame.case === "startInstance" || frame.case === "stopInstance") && this.lose.has(frame.case))
      return;
    switch (frame.case) {
      case "startInstance":
        if (this.refuseStaleStarts) {
          this.push({
            case: "error",
            value: ErrorReport.create({
              code: FrameErrorCode.STALE_FENCE,
              message: "fence is below the highest seen",
              instanceId: frame.value.instanceId,
            }),
          });
          return;
        }
        this.start(frame.value);
        return;
      case "stopInstance": {
        const { instanceId, reason } = frame.value;
        this.stopReasons.set(instanceId, reason);
        const inst = this.running.get(instanceId);
        this.running.delete(instanceId);
        this.push({ case: "stopAck", value: StopInstanceAck.create({ instanceId, accepted: true }) });
        this.push({
          case: "instanceUpdate",
          value: InstanceReport.create({
            instanceId,
            group: inst?.group ?? "",
            state: InstanceState.STOPPED,
            port: inst?.port ?? 0,
            planHash: inst?.planHash ?? "",
          }),
        });
        return;
      }
      case "shutdownNode":
        this.shutdowns.push(frame.value.reason);
        this.push({
          case: "shutdownAck",
          value: { runningInstances: this.running.size, estimatedDrainSeconds: 0 },
        });
        return;
      default:
        return;
    }
  }

  private start(start: StartInstance): void {
    this.starts++;
    this.startLog.push({
      instanceId: start.instanceId,
      planHash: start.plan?.planHash ?? "",
      at: performance.now(),
    });
    const plan = start.plan;
    if (plan === undefined || plan.planHash === "" || plan.port === 0) this.malformedStarts++;
    const inst: SimInstance = {
      instanceId: start.instanceId,
      group: start.group,
      port: plan?.port ?? 0,
      memoryMb: plan?.memoryMb ?? 0,
      planHash: plan?.planHash ?? "",
      players: 0,
    };
    this.running.set(inst.instanceId, inst);
    this.push({
      case: "startAck",
      value: StartInstanceAck.create({
        instanceId: inst.instanceId,
        planHash: inst.planHash,
        accepted: true,
      }),
    });
    this.report(inst, InstanceState.RUNNING);
  }

  private report(inst: SimInstance, state: InstanceState): void {
    this.push({
      case: "instanceUpdate",
      value: InstanceReport.create({
        instanceId: inst.instanceId,
        group: inst.group,
        state,
        port: inst.port,
        planHash: inst.planHash,
        playerCount: inst.players,
      }),
    });
  }

  private hello(): Hello {
    return Hello.create({
      nodeId: this.nodeId,
      protocolVersion: PROTOCOL_VERSION,
      labels: this.options.labels ?? {},
      capacity: NodeCapacity.create({
        cpuUsage: 0.05,
        availableCpus: 16,
        totalMemoryMb: this.options.memoryMb,
        usedMemoryMb: 0,
      }),
      // A reconnect re-announces what runs here, as a real daemon's Hello does.
      runningInstances: [...this.running.values()].map((inst) =>
        InstanceReport.create({
          instanceId: inst.instanceId,
          group: inst.group,
          state: InstanceState.RUNNING,
          port: inst.port,
          planHash: inst.planHash,
          playerCount: inst.players,
        }),
      ),
      usedPorts: [...this.running.values()].map((i) => i.port),
    });
  }

  private push(frame: Frame): void {
    this.outbound?.push(DaemonMessage.create({ frame }));
  }
}
