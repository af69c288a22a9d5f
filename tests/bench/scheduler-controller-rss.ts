/**
 * Child process of `bun run bench:scheduler`: a real controller (embedded store, memory coordination,
 * REST and gRPC listening) whose scheduler loop places 5,000 instances over 50 nodes through the
 * lifecycle seam, then reports the process RSS. Nodes are seeded in the store and the lifecycle records
 * each placement as RUNNING, so the figure is the controller's own footprint with 5,000 instances
 * loaded, not that of simulated daemons sharing the process.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseControllerConfig } from "../../src/config/controller-config.ts";
import { startController } from "../../src/controller/boot.ts";
import type { InstanceLifecycle } from "../../src/controller/instances/instance-lifecycle.ts";
import type { NodeDoc } from "../../src/controller/nodes/node-doc.ts";
import type { SchedulerInstanceDoc } from "../../src/controller/scheduler/loop/world-mapping.ts";
import { silentLogger } from "../../src/log/logger.ts";
import type { Doc, DurableStore } from "../../src/store/port.ts";

const NODES = 50;
const GROUPS = 25;
const PER_GROUP = 200;
const MB = 1024 * 1024;

const root = mkdtempSync(join(tmpdir(), "prexor-sched-rss-"));
const config = parseControllerConfig(
  "http:\n  host: 127.0.0.1\ngrpc:\n  host: 127.0.0.1\nscheduler:\n  evaluationIntervalSeconds: 3600\nsecurity:\n  initialAdminPassword: bench-password-123\n",
  join(root, "controller.yml"),
  { env: {} },
);
config.http.port = 0;
config.grpc.port = 0;

let store: DurableStore | undefined;
const lifecycle: InstanceLifecycle = {
  async place(r) {
    await store!.collection<SchedulerInstanceDoc>("instances").put(
      {
        _id: r.instanceId,
        group: r.group,
        node: r.node,
        state: "RUNNING",
        port: r.port,
        memoryMb: 512,
        startedAt: Date.now(),
      },
      { fence: r.fence },
    );
  },
  async stop(r) {
    await store!
      .collection<SchedulerInstanceDoc>("instances")
      .update(r.instanceId, { state: "STOPPING" }, { fence: r.fence });
  },
};
const rssBefore = process.memoryUsage().rss;
const controller = await startController({
  root,
  config,
  log: silentLogger(),
  instanceLifecycle: (deps) => {
    store = deps.store;
    return lifecycle;
  },
});
const now = Date.now();
for (let i = 0; i < NODES; i++) {
  await controller.store.collection<NodeDoc>("nodes").put({
    _id: `n${i}`,
    state: "ONLINE",
    connected: true,
    cordoned: false,
    drain: null,
    labels: { zone: `z${i % 3}` },
    capacity: {
      cpuUsage: 0.1,
      availableCpus: 16,
      totalMemoryMb: 60_000,
      usedMemoryMb: 0,
      totalDiskMb: 0,
      freeDiskMb: 0,
    },
    usedPorts: [],
    instances: [],
    lastSeen: now,
    connectedAt: now,
    disconnectedAt: null,
    disconnectReason: null,
    instancesLostAt: null,
    sessionId: null,
    controllerId: controller.id,
    daemonVersion: "bench",
    protocolVersion: 1,
    address: "127.0.0.1",
    host: {},
    enrolledAt: now,
    certSerial: "00",
    certNotAfter: now + 86_400_000,
    certRevoked: false,
  });
}
const groups = controller.store.collection<Doc & Record<string, unknown>>("groups");
for (let g = 0; g < GROUPS; g++) {
  await groups.put({
    _id: `g${g}`,
    minInstances: PER_GROUP,
    maxInstances: PER_GROUP + 50,
    memoryMb: 512,
    portRangeStart: 20_000,
    portRangeEnd: 40_000,
    createdAt: now,
    updatedAt: now,
  });
}
const t0 = performance.now();
const cold = await controller.scheduler.tickOnce();
const coldMs = performance.now() - t0;
const quietTimes: number[] = [];
for (let k = 0; k < 5; k++) quietTimes.push((await controller.scheduler.tickOnce()).durationMs);
const running = await controller.store.collection("instances").count({ state: "RUNNING" });
Bun.gc(true);
const rss = process.memoryUsage().rss;
console.log(
  JSON.stringify({
    instances: running,
    coldTickMs: coldMs,
    coldActions: cold.actionCount,
    quietTickMs: quietTimes.sort((a, b) => a - b)[2],
    rssMiB: rss / MB,
    rssBeforeBootMiB: rssBefore / MB,
  }),
);
await controller.stop();
process.exit(0);
