/**
 * Child process of `bun run bench:scheduler`: a real controller (embedded store, memory coordination,
 * REST and gRPC listening, its own instance lifecycle) whose scheduler loop places 5,000 instances over
 * 50 nodes: each placement writes the SCHEDULED record, seals and persists a composition plan and sends
 * StartInstance to a simulated daemon, which acks and reports RUNNING. The daemons run in a process of
 * their own (scheduler-sim-fleet.ts), so the RSS reported is the controller's footprint with 5,000
 * instances loaded.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseControllerConfig } from "../../src/config/controller-config.ts";
import { startController } from "../../src/controller/boot.ts";
import { silentLogger } from "../../src/log/logger.ts";
import type { Doc } from "../../src/store/port.ts";
import { issueNodeCredentials } from "../support/simulated-daemon.ts";
import { waitFor } from "../support/wait.ts";

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

const rssBefore = process.memoryUsage().rss;
const controller = await startController({ root, config, log: silentLogger() });

const credentials = [];
for (let i = 0; i < NODES; i++) credentials.push(await issueNodeCredentials(controller.pki.ca, `n${i}`));
const file = join(root, "nodes.json");
writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
const fleet = Bun.spawn(
  [
    "bun",
    new URL("./scheduler-sim-fleet.ts", import.meta.url).pathname,
    file,
    `127.0.0.1:${controller.grpcPort}`,
    "60000",
  ],
  { stdin: "pipe", stdout: "pipe", stderr: "inherit" },
);
const reader = fleet.stdout.getReader();
const first = await reader.read();
if (!new TextDecoder().decode(first.value).includes("ready"))
  throw new Error("simulated fleet did not start");
await waitFor(async () => (await controller.nodes.all({ connected: true })).length === NODES, {
  timeoutMs: 30_000,
  what: "50 nodes connected",
});

const now = Date.now();
const groups = controller.store.collection<Doc & Record<string, unknown>>("groups");
for (let g = 0; g < GROUPS; g++) {
  await groups.put({
    _id: `g${g}`,
    platform: "CUSTOM",
    argvTemplate: ["sleep", "infinity"],
    minInstances: PER_GROUP,
    maxInstances: PER_GROUP + 50,
    memoryMb: 512,
    portRangeStart: 20_000,
    portRangeEnd: 40_000,
    createdAt: now,
    updatedAt: now,
  });
}
const instances = controller.store.collection("instances");
const t0 = performance.now();
const cold = await controller.scheduler.tickOnce();
const coldMs = performance.now() - t0;
await waitFor(async () => (await instances.count({ state: "RUNNING" })) === GROUPS * PER_GROUP, {
  timeoutMs: 120_000,
  intervalMs: 100,
  what: "5,000 RUNNING instances",
});
const runningMs = performance.now() - t0;
const quietTimes: number[] = [];
for (let k = 0; k < 5; k++) quietTimes.push((await controller.scheduler.tickOnce()).durationMs);
const running = await instances.count({ state: "RUNNING" });
Bun.gc(true);
const rss = process.memoryUsage().rss;
console.log(
  JSON.stringify({
    instances: running,
    coldTickMs: coldMs,
    coldActions: cold.actionCount,
    allRunningMs: runningMs,
    quietTickMs: quietTimes.sort((a, b) => a - b)[2],
    rssMiB: rss / MB,
    rssBeforeBootMiB: rssBefore / MB,
  }),
);
fleet.kill();
await fleet.exited;
await controller.stop();
process.exit(0);
