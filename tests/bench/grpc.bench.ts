/**
 * bun run bench:grpc — the daemon link on loopback, against a real in-process controller (embedded
 * store, memory coordination, the production gRPC server with its interceptors):
 *
 * 1. mTLS unary round trip: GetClusterCa over a channel authenticated with a node certificate,
 *    200 warm-up calls, then 2000 measured, sequential. Goal: p50 ≤ 0.3 ms.
 * 2. Heartbeat processing throughput: 200 simulated daemons (node certificates signed by the
 *    cluster CA, one mTLS stream each, Hello first), then every daemon sends heartbeats as fast as
 *    its stream takes them; counted when the controller has written each to the store.
 *
 * Clients share the process (and the machine's cores) with the controller, so the throughput is a
 * floor for what a controller alone sustains.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Channel, ChannelCredentials, createChannel, createClient } from "nice-grpc";
import { parseControllerConfig } from "../../src/config/controller-config.ts";
import { startController } from "../../src/controller/boot.ts";
import { signNodeCsr } from "../../src/controller/pki/index.ts";
import { createNodeKeyAndCsr } from "../../src/daemon/pki/csr.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { FrameQueue } from "../../src/wire/frame-queue.ts";
import {
  BootstrapServiceDefinition,
  CONTROLLER_TLS_SERVER_NAME,
  DaemonMessage,
  DaemonServiceDefinition,
  Heartbeat,
  Hello,
  NodeCapacity,
  PROTOCOL_VERSION,
} from "../../src/wire/index.ts";
import { fmtMs, percentile } from "./stats.ts";

const WARMUP = 200;
const SAMPLES = 2000;
const DAEMONS = 200;
const HEARTBEATS_PER_DAEMON = 50;

const root = mkdtempSync(join(tmpdir(), "prexor-grpc-bench-"));
const config = parseControllerConfig(
  "http:\n  host: 127.0.0.1\ngrpc:\n  host: 127.0.0.1\nsecurity:\n  initialAdminPassword: bench-password-123\n",
  join(root, "controller.yml"),
  { env: {} },
);
config.http.port = 0;
config.grpc.port = 0;
const controller = await startController({ root, config, log: silentLogger() });
const address = `127.0.0.1:${controller.grpcPort}`;
const ca = controller.pki.ca;

async function nodeCredentials(nodeId: string) {
  const { privateKeyPem, csrDer } = await createNodeKeyAndCsr(nodeId);
  const issued = await signNodeCsr(ca, { nodeId, csr: csrDer, now: new Date() });
  return ChannelCredentials.createSsl(
    Buffer.from(ca.certificatePem),
    Buffer.from(privateKeyPem),
    Buffer.from(issued.certificatePem),
  );
}

const channels: Channel[] = [];
function dial(credentials: ChannelCredentials): Channel {
  const channel = createChannel(address, credentials, {
    "grpc.ssl_target_name_override": CONTROLLER_TLS_SERVER_NAME,
  });
  channels.push(channel);
  return channel;
}

// 1. unary round trip over mTLS
const unary = createClient(BootstrapServiceDefinition, dial(await nodeCredentials("bench-unary")));
const samples: number[] = [];
for (let i = 0; i < WARMUP + SAMPLES; i++) {
  const t0 = Bun.nanoseconds();
  await unary.getClusterCa({});
  const ms = (Bun.nanoseconds() - t0) / 1e6;
  if (i >= WARMUP) samples.push(ms);
}

// 2. heartbeat throughput
let processed = 0;
const record = controller.nodes.recordHeartbeat.bind(controller.nodes);
controller.nodes.recordHeartbeat = async (nodeId, beat) => {
  await record(nodeId, beat);
  processed++;
};

interface Simulated {
  outbound: FrameQueue<DaemonMessage>;
  acked: Promise<void>;
  done: Promise<void>;
}

const capacity = NodeCapacity.create({
  cpuUsage: 0.2,
  availableCpus: 8,
  totalMemoryMb: 16384,
  usedMemoryMb: 4096,
});
async function simulate(nodeId: string): Promise<Simulated> {
  const client = createClient(DaemonServiceDefinition, dial(await nodeCredentials(nodeId)));
  const outbound = new FrameQueue<DaemonMessage>({ capacity: 2048, isSheddable: () => false });
  outbound.push(
    DaemonMessage.create({
      frame: { case: "hello", value: Hello.create({ nodeId, protocolVersion: PROTOCOL_VERSION, capacity }) },
    }),
  );
  let acked: () => void = () => {};
  const ackedPromise = new Promise<void>((resolve) => {
    acked = resolve;
  });
  const done = (async () => {
    for await (const message of client.connect(outbound)) {
      if (message.frame?.case === "helloAck") acked();
    }
  })();
  return { outbound, acked: ackedPromise, done };
}

const setupStart = performance.now();
const fleet: Simulated[] = [];
for (let i = 0; i < DAEMONS; i++) fleet.push(await simulate(`bench-${i}`));
await Promise.all(fleet.map((d) => d.acked));
const setupMs = performance.now() - setupStart;

const total = DAEMONS * HEARTBEATS_PER_DAEMON;
const t0 = performance.now();
for (let n = 0; n < HEARTBEATS_PER_DAEMON; n++) {
  for (const daemon of fleet) {
    daemon.outbound.push(
      DaemonMessage.create({
        frame: {
          case: "heartbeat",
          value: Heartbeat.create({ capacity, usedPorts: [30000, 30001], sentAtMs: Date.now() }),
        },
      }),
    );
  }
}
while (processed < total) await Bun.sleep(5);
const elapsedMs = performance.now() - t0;
const perSecond = total / (elapsedMs / 1000);

console.log(`gRPC daemon link on loopback (Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores)`);
console.log(
  `mTLS unary round trip (GetClusterCa, ${SAMPLES} sequential after ${WARMUP} warm-up): ` +
    `p50 ${fmtMs(percentile(samples, 50))}, p95 ${fmtMs(percentile(samples, 95))}, p99 ${fmtMs(percentile(samples, 99))}` +
    `  [goal p50 ≤ 0.3 ms: ${percentile(samples, 50) <= 0.3 ? "met" : "missed"}]`,
);
console.log(
  `${DAEMONS} simulated daemons: node certificates signed and all sessions open (Hello → HelloAck) in ${(setupMs / 1000).toFixed(2)} s`,
);
console.log(
  `heartbeat processing: ${total} heartbeats (${HEARTBEATS_PER_DAEMON} per daemon) handled and stored in ` +
    `${(elapsedMs / 1000).toFixed(2)} s = ${Math.round(perSecond)} heartbeats/s ` +
    `(${DAEMONS} daemons at the default 30 s interval send ${(DAEMONS / 30).toFixed(1)}/s)`,
);

for (const daemon of fleet) daemon.outbound.close();
await Promise.allSettled(fleet.map((d) => d.done));
for (const channel of channels) channel.close();
await controller.stop();
process.exit(0);
