/**
 * Fleet harness: a real controller (embedded store, memory coordination, gRPC over mTLS) and simulated
 * daemons that are real DaemonService clients with CA-signed node certificates. A simulated daemon
 * answers each StartInstance with an accepted StartInstanceAck and an InstanceReport RUNNING, so
 * instance state reaches the store through the controller's own link and reconciler.
 *
 * The real instance lifecycle (src/controller/instances/) is being built in parallel; until it lands,
 * `DispatchingLifecycle` stands in for it: it writes the SCHEDULED record under the scheduler's fence
 * and sends StartInstance/StopInstance through the controller's session registry. It builds no
 * composition plan beyond node, port and memory.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Channel, ChannelCredentials, createChannel, createClient } from "nice-grpc";
import { parseControllerConfig } from "../../../src/config/controller-config.ts";
import type { ControllerConfig } from "../../../src/config/controller-schema.ts";
import { type RunningController, startController } from "../../../src/controller/boot.ts";
import type { SessionRegistry } from "../../../src/controller/grpc/session-registry.ts";
import type {
  InstanceLifecycle,
  PlaceRequest,
  StopRequest,
} from "../../../src/controller/instances/instance-lifecycle.ts";
import { signNodeCsr } from "../../../src/controller/pki/index.ts";
import type { SchedulerInstanceDoc } from "../../../src/controller/scheduler/loop/world-mapping.ts";
import { createNodeKeyAndCsr } from "../../../src/daemon/pki/csr.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import { FrameQueue } from "../../../src/proto/frame-queue.ts";
import {
  CONTROLLER_TLS_SERVER_NAME,
  CompositionPlan,
  DaemonMessage,
  DaemonServiceDefinition,
  Hello,
  InstanceReport,
  InstanceState,
  NodeCapacity,
  PROTOCOL_VERSION,
  StartInstance,
  StartInstanceAck,
  StopInstance,
} from "../../../src/proto/index.ts";
import type { DurableStore } from "../../../src/store/port.ts";

export class DispatchingLifecycle implements InstanceLifecycle {
  placed = 0;
  undelivered = 0;

  constructor(
    private readonly store: DurableStore,
    private readonly sessions: SessionRegistry,
    private readonly memoryOf: (group: string) => number,
  ) {}

  async place(request: PlaceRequest): Promise<void> {
    const memoryMb = this.memoryOf(request.group);
    await this.store.collection<SchedulerInstanceDoc>("instances").put(
      {
        _id: request.instanceId,
        group: request.group,
        node: request.node,
        state: "SCHEDULED",
        port: request.port,
        memoryMb,
        createdAt: Date.now(),
      },
      { fence: request.fence },
    );
    const plan = CompositionPlan.create({
      instanceId: request.instanceId,
      group: request.group,
      nodeId: request.node,
      port: request.port,
      memoryMb,
    });
    const outcome = this.sessions.send(request.node, {
      case: "startInstance",
      value: StartInstance.create({
        instanceId: request.instanceId,
        group: request.group,
        plan,
        fence: { scope: request.fence.scope, token: request.fence.token },
      }),
    });
    this.placed++;
    if (outcome !== "queued") this.undelivered++;
  }

  async stop(request: StopRequest): Promise<void> {
    const col = this.store.collection<SchedulerInstanceDoc>("instances");
    const doc = await col.update(request.instanceId, { state: "STOPPING" }, { fence: request.fence });
    if (doc) {
      this.sessions.send(doc.node, {
        case: "stopInstance",
        value: StopInstance.create({ instanceId: request.instanceId }),
      });
    }
  }
}

export interface SimulatedDaemon {
  nodeId: string;
  starts: number;
  ready: Promise<void>;
  done: Promise<void>;
  close(): void;
}

export interface Fleet {
  controller: RunningController;
  config: ControllerConfig;
  lifecycle: DispatchingLifecycle;
  daemons: SimulatedDaemon[];
  stop(): Promise<void>;
}

const memoryByGroup = new Map<string, number>();
export function setGroupMemory(group: string, memoryMb: number): void {
  memoryByGroup.set(group, memoryMb);
}

export async function startFleet(options: {
  daemons: number;
  nodeMemoryMb: number;
  intervalSeconds?: number;
}): Promise<Fleet> {
  const root = mkdtempSync(join(tmpdir(), "prexor-fleet-"));
  const config = parseControllerConfig(
    [
      "http:",
      "  host: 127.0.0.1",
      "grpc:",
      "  host: 127.0.0.1",
      "scheduler:",
      `  evaluationIntervalSeconds: ${options.intervalSeconds ?? 1}`,
      "security:",
      "  initialAdminPassword: fleet-suite-password",
    ].join("\n"),
    join(root, "controller.yml"),
    { env: {} },
  );
  config.http.port = 0;
  config.grpc.port = 0;
  let lifecycle: DispatchingLifecycle | undefined;
  const controller = await startController({
    root,
    config,
    log: silentLogger(),
    instanceLifecycle: ({ store, sessions }) => {
      lifecycle = new DispatchingLifecycle(store, sessions, (g) => memoryByGroup.get(g) ?? 1024);
      return lifecycle;
    },
  });
  const address = `127.0.0.1:${controller.grpcPort}`;
  const channels: Channel[] = [];
  const ca = controller.pki.ca;

  async function simulate(nodeId: string): Promise<SimulatedDaemon> {
    const { privateKeyPem, csrDer } = await createNodeKeyAndCsr(nodeId);
    const issued = await signNodeCsr(ca, { nodeId, csr: csrDer, now: new Date() });
    const credentials = ChannelCredentials.createSsl(
      Buffer.from(ca.certificatePem),
      Buffer.from(privateKeyPem),
      Buffer.from(issued.certificatePem),
    );
    const channel = createChannel(address, credentials, {
      "grpc.ssl_target_name_override": CONTROLLER_TLS_SERVER_NAME,
    });
    channels.push(channel);
    const client = createClient(DaemonServiceDefinition, channel);
    const outbound = new FrameQueue<DaemonMessage>({ capacity: 100_000, isSheddable: () => false });
    const send = (frame: NonNullable<DaemonMessage["frame"]>) =>
      outbound.push(DaemonMessage.create({ frame }));
    send({
      case: "hello",
      value: Hello.create({
        nodeId,
        protocolVersion: PROTOCOL_VERSION,
        capacity: NodeCapacity.create({
          cpuUsage: 0.05,
          availableCpus: 16,
          totalMemoryMb: options.nodeMemoryMb,
          usedMemoryMb: 0,
        }),
      }),
    });
    let resolveReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      resolveReady = resolve;
    });
    const daemon: SimulatedDaemon = {
      nodeId,
      starts: 0,
      ready,
      done: Promise.resolve(),
      close: () => outbound.close(),
    };
    daemon.done = (async () => {
      for await (const message of client.connect(outbound)) {
        const frame = message.frame;
        if (frame?.case === "helloAck") resolveReady();
        if (frame?.case === "startInstance") {
          daemon.starts++;
          const start = frame.value;
          const port = start.plan?.port ?? 0;
          send({
            case: "startAck",
            value: StartInstanceAck.create({ instanceId: start.instanceId, accepted: true }),
          });
          send({
            case: "instanceUpdate",
            value: InstanceReport.create({
              instanceId: start.instanceId,
              group: start.group,
              state: InstanceState.RUNNING,
              port,
            }),
          });
        }
        if (frame?.case === "stopInstance") {
          send({
            case: "instanceUpdate",
            value: InstanceReport.create({
              instanceId: frame.value.instanceId,
              state: InstanceState.STOPPED,
            }),
          });
        }
      }
    })().catch(() => undefined);
    return daemon;
  }

  const daemons: SimulatedDaemon[] = [];
  for (let i = 0; i < options.daemons; i++)
    daemons.push(await simulate(`fleet-${String(i).padStart(2, "0")}`));
  await Promise.all(daemons.map((d) => d.ready));
  if (lifecycle === undefined) throw new Error("the controller did not build the instance lifecycle");
  return {
    controller,
    config,
    lifecycle,
    daemons,
    stop: async () => {
      for (const d of daemons) d.close();
      await Promise.allSettled(daemons.map((d) => d.done));
      for (const c of channels) c.close();
      await controller.stop();
    },
  };
}
