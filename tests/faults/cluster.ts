/**
 * The fault suite's cluster, on the compiled binary with real servers: three production controllers
 * on one MongoDB-wire server and a redis-server of its own (so it can be killed and restarted
 * empty), two daemons, and a TCP fault proxy on every link that a scenario breaks — each controller
 * to MongoDB, each controller to Redis, each daemon to each controller.
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/adapters.ts";
import { AdminApi, ready } from "../support/admin-api.ts";
import { type Running, startBinary } from "../support/binary.ts";
import { FaultProxy } from "../support/fault-proxy.ts";
import { killNodeProcesses } from "../support/node-processes.ts";
import { freePort } from "../support/ports.ts";
import { writeProductionConfig } from "../support/production-config.ts";
import { portOpen, spawnTied, stopTied } from "../support/servers.ts";
import { randomId, waitFor } from "../support/wait.ts";

export const PASSWORD = "fault-suite-admin-password-0123";
/** Short enough that a scenario's recovery bound (lease + 2 ticks) is a few seconds. */
export const SESSION_LEASE_MS = 2000;
export const TICK_MS = 1000;
export const HEARTBEAT_MS = 500;

/** A redis-server this suite owns: kill -9 and a restart on the same port start it empty. */
export class RedisProcess {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async start(): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort());
    await redis.restart();
    return redis;
  }

  async restart(): Promise<void> {
    const args = ["--bind", "127.0.0.1", "--port", String(this.port), "--save", "", "--appendonly", "no"];
    this.child = spawnTied("redis-server", args, "ignore");
    const child = this.child;
    await waitFor(() => child.exitCode === null && portOpen(this.port), {
      timeoutMs: 10_000,
      what: "redis-server to listen",
    });
  }

  /** SIGKILL of the server itself (the tie's shell follows once its child is gone). */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    stopTied(child);
    await waitFor(async () => !(await portOpen(this.port)), { timeoutMs: 10_000, what: "redis-server gone" });
  }
}

export interface ControllerHandle {
  index: number;
  root: string;
  http: number;
  grpc: number;
  id: string;
  proc: Running;
  mongo: FaultProxy;
  redis: FaultProxy;
  api: AdminApi;
  alive: boolean;
  paused: boolean;
}

export interface DaemonHandle {
  nodeId: string;
  root: string;
  /** one proxy per controller, in controller order */
  links: FaultProxy[];
  proc: Running;
  args: string[];
}

export class FaultCluster {
  readonly controllers: ControllerHandle[] = [];
  readonly daemons: DaemonHandle[] = [];
  private readonly roots: string[] = [];

  private constructor(
    readonly mongoUri: string,
    readonly database: string,
    readonly redis: RedisProcess,
  ) {}

  static async start(mongoUri: string, controllers = 3, daemons = 2): Promise<FaultCluster> {
    const cluster = new FaultCluster(mongoUri, randomId("faults_"), await RedisProcess.start());
    for (let i = 0; i < controllers; i++) await cluster.addController(i);
    await Promise.all(cluster.controllers.map((c) => c.api.login(PASSWORD)));
    for (let j = 0; j < daemons; j++) await cluster.addDaemon(j);
    return cluster;
  }

  /** Any controller that is up and not paused, preferring `index`. */
  live(index = 0): ControllerHandle {
    const up = this.controllers.filter((c) => c.alive && !c.paused);
    const pick = up.find((c) => c.index === index) ?? up[0];
    if (pick === undefined) throw new Error("no live controller");
    return pick;
  }

  api(index = 0): AdminApi {
    return this.live(index).api;
  }

  private async addController(index: number): Promise<void> {
    const root = tempDir(`prexor-faults-ctl${index}-`);
    this.roots.push(root);
    const mongoPort = Number(new URL(this.mongoUri).port);
    const handle: ControllerHandle = {
      index,
      root,
      http: await freePort(),
      grpc: await freePort(),
      id: "",
      proc: undefined as unknown as Running,
      mongo: await FaultProxy.start(mongoPort),
      redis: await FaultProxy.start(this.redis.port),
      api: undefined as unknown as AdminApi,
      alive: false,
      paused: false,
    };
    handle.api = new AdminApi(`http://127.0.0.1:${handle.http}`);
    writeProductionConfig(root, {
      http: handle.http,
      grpc: handle.grpc,
      mongoUri: `mongodb://127.0.0.1:${handle.mongo.port}`,
      database: this.database,
      redisUri: `redis://127.0.0.1:${handle.redis.port}`,
      clusterSecret: "fault-suite-cluster-secret-0123456789",
      password: PASSWORD,
      heartbeatMs: HEARTBEAT_MS,
      missedThreshold: 6,
      sessionLeaseMs: SESSION_LEASE_MS,
      tickSeconds: TICK_MS / 1000,
      // Both daemons measure the same host, busy with three controllers and the test itself: the
      // CPU rule would make recovery times measure the runner's load, not the product.
      scheduler: ["  cpuHardLimit: 1.5"],
    });
    this.controllers.push(handle);
    await this.startController(handle);
  }

  /** Starts (or restarts, same root and ports) a controller and waits for its health. */
  async startController(handle: ControllerHandle): Promise<void> {
    handle.proc = startBinary(["controller", "--root", handle.root]);
    await waitFor(() => ready(handle.http), {
      timeoutMs: 60_000,
      what: `controller ${handle.index} health`,
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${handle.proc.output().slice(-3000)}`);
    });
    const health = (await (await fetch(`http://127.0.0.1:${handle.http}/api/v1/system/health`)).json()) as {
      controllerId: string;
    };
    handle.id = health.controllerId;
    handle.alive = true;
    handle.paused = false;
    if (handle.api.token !== "") await handle.api.login(PASSWORD);
  }

  async killController(handle: ControllerHandle): Promise<void> {
    handle.alive = false;
    await handle.proc.stop("SIGKILL");
  }

  pauseController(handle: ControllerHandle): void {
    handle.paused = true;
    handle.proc.child.kill("SIGSTOP");
  }

  resumeController(handle: ControllerHandle): void {
    handle.proc.child.kill("SIGCONT");
    handle.paused = false;
  }

  private async addDaemon(index: number): Promise<void> {
    const nodeId = `fault-${String.fromCharCode(97 + index)}-${randomId("").slice(0, 6)}`;
    const root = tempDir(`prexor-faults-node${index}-`);
    this.roots.push(root);
    const links = await Promise.all(this.controllers.map((c) => FaultProxy.start(c.grpc)));
    mkdirSync(join(root, "config"));
    writeFileSync(
      join(root, "config/daemon.yml"),
      [
        `nodeId: ${nodeId}`,
        "controller:",
        "  helloTimeoutMs: 2500",
        "  endpoints:",
        ...links.map((l) => `    - 127.0.0.1:${l.port}`),
        "reconnect:",
        "  initialDelayMs: 100",
        "  maxDelayMs: 500",
        "instances:",
        "  shutdownTimeoutSeconds: 3",
        "  killTimeoutSeconds: 2",
        "  playerCountPoll:",
        "    intervalMs: 0",
        "labels:",
        `  pool: ${String.fromCharCode(97 + index)}`,
        "",
      ].join("\n"),
    );
    const token = await this.api().call<{ token: string }>("POST", "/api/v1/admin/tokens", { nodeId });
    if (token.status !== 201) throw new Error(`join token: ${token.status} ${JSON.stringify(token.body)}`);
    const args = [
      "daemon",
      "--root",
      root,
      "--controller",
      `127.0.0.1:${links[0]!.port}`,
      "--join-token",
      token.body.token,
    ];
    const handle: DaemonHandle = { nodeId, root, links, proc: startBinary(args), args };
    this.daemons.push(handle);
    await this.waitNodeOnline(handle);
  }

  async waitNodeOnline(handle: DaemonHandle, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        const nodes = await this.api().call<{
          data: Array<{ id: string; state: string; connected: boolean }>;
        }>("GET", "/api/v1/nodes");
        return nodes.body.data?.some((n) => n.id === handle.nodeId && n.connected && n.state === "ONLINE");
      },
      { timeoutMs, intervalMs: 100, what: `node ${handle.nodeId} ONLINE` },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${handle.proc.output().slice(-3000)}`);
    });
  }

  async killDaemon(handle: DaemonHandle): Promise<void> {
    await handle.proc.stop("SIGKILL");
  }

  restartDaemon(handle: DaemonHandle): void {
    handle.proc = startBinary(handle.args);
  }

  /** The controller whose gRPC stream holds the node's session, as the store records it. */
  async nodeHolder(nodeId: string): Promise<ControllerHandle | undefined> {
    const nodes = await this.api().call<{ data: Array<{ id: string; controllerId: string | null }> }>(
      "GET",
      "/api/v1/nodes",
    );
    const holder = nodes.body.data?.find((n) => n.id === nodeId)?.controllerId;
    return this.controllers.find((c) => c.id === holder);
  }

  /** Full logs of every process, written under PREXOR_FAULT_LOGS when it is set (for a failed run). */
  dumpLogs(label: string): string {
    const dir = process.env.PREXOR_FAULT_LOGS;
    if (!dir) return "";
    mkdirSync(dir, { recursive: true });
    for (const c of this.controllers)
      writeFileSync(join(dir, `${label}-controller${c.index}.log`), c.proc.output());
    for (const d of this.daemons) writeFileSync(join(dir, `${label}-${d.nodeId}.log`), d.proc.output());
    return `full logs in ${dir}/${label}-*.log`;
  }

  output(): string {
    return [
      ...this.controllers.map((c) => `--- controller ${c.index} (${c.id})\n${c.proc.output().slice(-4000)}`),
      ...this.daemons.map((d) => `--- daemon ${d.nodeId}\n${d.proc.output().slice(-4000)}`),
    ].join("\n");
  }

  async stop(): Promise<void> {
    for (const c of this.controllers) {
      if (c.paused) c.proc.child.kill("SIGCONT");
    }
    await Promise.all([...this.daemons, ...this.controllers].map((p) => p.proc?.stop("SIGKILL")));
    for (const d of this.daemons) killNodeProcesses(d.nodeId);
    await Promise.all([
      ...this.controllers.flatMap((c) => [c.mongo.stop(), c.redis.stop()]),
      ...this.daemons.flatMap((d) => d.links.map((l) => l.stop())),
    ]);
    await this.redis.kill().catch(() => undefined);
    for (const root of this.roots) rmSync(root, { recursive: true, force: true });
  }
}
