import type { AdminApi } from "./admin-api.ts";
import type { Running } from "./binary.ts";
import { killNodeProcesses } from "./node-processes.ts";
import {
  enrolDaemon,
  nodeView,
  type ProductionController,
  startProductionController,
} from "./production-controller.ts";
import type { TestServer } from "./servers.ts";
import { randomId, waitFor } from "./wait.ts";

/**
 * Production-profile controllers sharing one database on the harness's MongoDB-wire server and
 * redis-server, and one daemon (`nodeId`) told only about the first: what the deployment failover
 * suites kill controllers of. `live` holds the controllers not killed through `kill`.
 */
export interface FailoverCluster {
  readonly database: string;
  readonly nodeId: string;
  readonly live: ProductionController[];
  /** kill -9 of `c`, which then leaves `live` */
  kill(c: ProductionController): Promise<void>;
  /** of `live`, the one holding `group:<group>` (it drives the group's deployment) and another */
  driverOf(group: string): Promise<{ driver: ProductionController; survivor: ProductionController }>;
  /** kill -9 of its controllers, its daemon and the node's workloads: a later case starts clean */
  stop(): Promise<void>;
}

export async function startFailoverCluster(options: {
  mongo: TestServer;
  redis: TestServer;
  nodeId: string;
  password: string;
  /** temp-dir and database prefix */
  prefix: string;
  running: Running[];
  controllers?: number;
}): Promise<FailoverCluster> {
  const database = randomId(`${options.prefix}_`);
  const live: ProductionController[] = [];
  /** its own processes (also on `running`, so a suite's afterAll ends them when a case fails early) */
  const own: Running[] = [];
  const start = async () => {
    const c = await startProductionController(
      {
        mongoUri: options.mongo.uri,
        database,
        redisUri: options.redis.uri,
        clusterSecret: `${options.prefix}-cluster-secret-0123`,
        password: options.password,
        tickSeconds: 1,
      },
      options.running,
      `prexor-e2e-${options.prefix}-ctl-`,
    );
    own.push(c.proc);
    live.push(c);
    return c;
  };
  for (let i = 0; i < (options.controllers ?? 2); i++) await start();
  // Logged in once all run (the first login may set the bootstrap password).
  for (const c of live) await c.api.login(options.password);

  const [first] = live as [ProductionController];
  const daemon = await enrolDaemon({
    api: first.api,
    controller: `127.0.0.1:${first.grpc}`,
    nodeId: options.nodeId,
    running: options.running,
    rootPrefix: `prexor-e2e-${options.prefix}-node-`,
  });
  own.push(daemon);
  await waitFor(async () => (await nodeView(first.api, options.nodeId))?.state === "ONLINE", {
    timeoutMs: 30_000,
    what: "the node ONLINE",
  });

  return {
    database,
    nodeId: options.nodeId,
    live,
    kill: async (c) => {
      await c.proc.stop("SIGKILL");
      live.splice(live.indexOf(c), 1);
    },
    driverOf: async (group) => {
      const holders = await Promise.all(
        live.map(async (c) => ({
          c,
          leases: (await c.api.call<{ leases: string[] }>("GET", "/api/v1/scheduler")).body.leases,
        })),
      );
      const driver = holders.find((h) => h.leases.includes(`group:${group}`))?.c;
      if (driver === undefined) throw new Error(`no controller holds group:${group}`);
      return { driver, survivor: live.find((c) => c !== driver)! };
    },
    stop: async () => {
      for (const p of own) await p.stop("SIGKILL");
      live.splice(0);
      killNodeProcesses(options.nodeId);
    },
  };
}

/** The group's crash reports, newest first, as one line each (exit code and log tail): failure context. */
export async function crashSummary(api: AdminApi, group: string): Promise<string> {
  const res = await api.call<{
    data: Array<{ instanceId: string; exitCode: number | null; logTail: string[] }>;
  }>("GET", `/api/v1/crashes?group=${group}&pageSize=5`);
  if (res.status !== 200) return `crashes: ${res.status}`;
  return res.body.data
    .map((c) => `${c.instanceId} exit ${c.exitCode}: ${c.logTail.slice(-6).join(" | ")}`)
    .join("; ");
}
