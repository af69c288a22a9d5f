/**
 * In-process controllers and daemons for the link suites: a real controller (embedded store,
 * memory coordination, REST and gRPC on ephemeral loopback ports) whose log is captured so tests
 * can assert that refusals are logged with their reason, and real daemons started through
 * startDaemon. Heartbeats are fast (config heartbeat.intervalMs) so liveness tests finish quickly.
 */
import { join } from "node:path";
import { Writable } from "node:stream";
import { parseControllerConfig } from "../../../src/config/controller-config.ts";
import type { ControllerConfig } from "../../../src/config/controller-schema.ts";
import { parseDaemonConfig } from "../../../src/config/daemon-config.ts";
import { type RunningController, startController } from "../../../src/controller/boot.ts";
import { type RunningDaemon, startDaemon } from "../../../src/daemon/boot.ts";
import type { LinkCommands, LinkSupervisor } from "../../../src/daemon/link/supervisor-port.ts";
import { createLogger, type Logger } from "../../../src/log/logger.ts";
import { tempDir } from "../../support/temp-dirs.ts";
import { waitFor } from "../../support/wait.ts";

export const ADMIN_PASSWORD = "link-suite-admin-password";

export type LogLine = Record<string, unknown> & { msg?: string };

/** A pino destination that keeps every line, for assertions on what was logged. */
export class LogCapture {
  readonly lines: LogLine[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      for (const text of chunk.toString().split("\n")) {
        if (text.trim() !== "") this.lines.push(JSON.parse(text) as LogLine);
      }
      done();
    },
  });

  logger(name: string): Logger {
    return createLogger({ level: "debug", format: "JSON", name, destination: this.stream });
  }

  matching(pattern: RegExp): LogLine[] {
    return this.lines.filter((l) => pattern.test(String(l.msg ?? "")));
  }

  /** Resolves with the first line (after `from`) whose message matches. */
  waitFor(pattern: RegExp, from = 0, timeoutMs = 5000): Promise<LogLine> {
    return waitFor(() => this.lines.slice(from).find((l) => pattern.test(String(l.msg ?? ""))), {
      timeoutMs,
      what: `a log line matching ${pattern}`,
    });
  }
}

export { tempDir };

export interface TestCluster {
  root: string;
  url: string;
  running: RunningController;
  config: ControllerConfig;
  logs: LogCapture;
  admin: string;
  grpcAddress: string;
  call(method: string, path: string, body?: unknown, token?: string): Promise<Response>;
  json<T>(method: string, path: string, body?: unknown): Promise<T>;
  mintToken(nodeId?: string, ttlSeconds?: number): Promise<string>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  root?: string;
  heartbeatMs?: number;
  graceMs?: number;
  logs?: LogCapture;
  mutate?: (config: ControllerConfig) => void;
}

export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const root = options.root ?? tempDir("prexor-link-");
  const logs = options.logs ?? new LogCapture();
  const config = parseControllerConfig(
    [
      "http:",
      "  host: 127.0.0.1",
      "grpc:",
      "  host: 127.0.0.1",
      "heartbeat:",
      `  intervalMs: ${options.heartbeatMs ?? 200}`,
      "  missedThreshold: 3",
      `  instanceLostGraceMs: ${options.graceMs ?? 1000}`,
      "security:",
      `  initialAdminPassword: ${ADMIN_PASSWORD}`,
      "  rateLimiting:",
      "    perIpPerMinute: 100000",
      "    perUserPerMinute: 100000",
      "    loginPerIpPerMinute: 100000",
    ].join("\n"),
    join(root, "controller.yml"),
    { env: {} },
  );
  config.http.port = 0;
  config.grpc.port = 0;
  options.mutate?.(config);
  const running = await startController({ root, config, log: logs.logger("controller") });
  const url = `http://127.0.0.1:${running.httpPort}`;
  const call = (method: string, path: string, body?: unknown, token?: string) =>
    fetch(`${url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const login = await call("POST", "/api/v1/auth/login", { username: "admin", password: ADMIN_PASSWORD });
  const admin = ((await login.json()) as { token: string }).token;
  const cluster: TestCluster = {
    root,
    url,
    running,
    config,
    logs,
    admin,
    grpcAddress: `127.0.0.1:${running.grpcPort}`,
    call: (method, path, body, token = admin) => call(method, path, body, token),
    json: async <T>(method: string, path: string, body?: unknown) => {
      const res = await call(method, path, body, admin);
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    mintToken: async (nodeId?: string, ttlSeconds?: number) => {
      const created = await cluster.json<{ token: string }>("POST", "/api/v1/admin/tokens", {
        ...(nodeId ? { nodeId } : {}),
        ...(ttlSeconds ? { ttlSeconds } : {}),
      });
      return created.token;
    },
    stop: () => running.stop(),
  };
  return cluster;
}

export interface NodeView {
  id: string;
  state: string;
  connected: boolean;
  cordoned: boolean;
  lastSeen: string | null;
  disconnectReason: string | null;
  drain: unknown;
  certificate: { serial: string; notAfter: string | null; revoked: boolean };
  instances: Array<{ instanceId: string; state: string }>;
}

export async function nodeState(cluster: TestCluster, nodeId: string): Promise<NodeView | null> {
  const res = await cluster.call("GET", `/api/v1/nodes/${nodeId}`);
  return res.status === 200 ? ((await res.json()) as NodeView) : null;
}

export function waitForState(
  cluster: TestCluster,
  nodeId: string,
  state: string,
  timeoutMs = 5000,
): Promise<NodeView> {
  return waitFor(
    async () => {
      const node = await nodeState(cluster, nodeId);
      return node?.state === state ? node : null;
    },
    { timeoutMs, what: `node ${nodeId} ${state}` },
  );
}

export interface DaemonOptions {
  root?: string;
  token?: string;
  supervisor?: LinkSupervisor;
  commands?: LinkCommands;
  address?: string;
  logs?: LogCapture;
}

export async function startTestDaemon(
  cluster: TestCluster,
  nodeId: string,
  options: DaemonOptions = {},
): Promise<RunningDaemon & { root: string }> {
  const root = options.root ?? tempDir(`prexor-daemon-${nodeId}-`);
  const config = parseDaemonConfig(
    `nodeId: ${nodeId}\nreconnect:\n  initialDelayMs: 100\n  maxDelayMs: 400\n  jitter: 0.2\n`,
    join(root, "daemon.yml"),
    { env: {} },
  );
  const running = await startDaemon({
    root,
    config,
    log: (options.logs ?? cluster.logs).logger(`daemon-${nodeId}`),
    controllerAddress: options.address ?? cluster.grpcAddress,
    joinToken: options.token,
    supervisor: options.supervisor,
    commands: options.commands,
  });
  return { ...running, root };
}
