/**
 * Fleet harness: a real controller (embedded store, memory coordination, gRPC over mTLS, its own
 * instance lifecycle) and simulated daemons that are real DaemonService clients with CA-signed node
 * certificates (tests/support/simulated-daemon.ts). Placements go through the controller's lifecycle
 * end to end: SCHEDULED record, sealed and persisted composition plan, StartInstance on the node's
 * session, the daemon's ack and RUNNING report back through the link and the reconciler.
 */
import { join } from "node:path";
import { parseControllerConfig } from "../../../src/config/controller-config.ts";
import type { ControllerConfig } from "../../../src/config/controller-schema.ts";
import { type RunningController, startController } from "../../../src/controller/boot.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import { issueNodeCredentials, SimulatedDaemon } from "../../support/simulated-daemon.ts";
import { tempDir } from "../../support/temp-dirs.ts";

export const FLEET_ADMIN_PASSWORD = "fleet-suite-password";

export interface Fleet {
  root: string;
  /** the controller's daemon listener, HOST:PORT */
  grpcAddress: string;
  controller: RunningController;
  config: ControllerConfig;
  daemons: SimulatedDaemon[];
  /** REST call as admin */
  api(method: string, path: string, body?: unknown): Promise<Response>;
  stop(): Promise<void>;
}

/** A CUSTOM-platform group: no catalog artifact needed, the daemon is told what command to run. */
export function customGroup(name: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, platform: "CUSTOM", argvTemplate: ["sleep", "infinity"], spreadConstraint: "", ...fields };
}

/**
 * A production-profile controller on a shared MongoDB database and Valkey, as one member of an
 * active-active cluster: every call with the same `database` joins the same cluster.
 */
export async function startClusterMember(options: {
  mongoUri: string;
  redisUri: string;
  database: string;
  intervalSeconds: number;
  clusterSecret: string;
}): Promise<RunningController> {
  const yaml = [
    "runtime:",
    "  profile: production",
    "database:",
    `  uri: ${options.mongoUri}`,
    `  database: ${options.database}`,
    "redis:",
    `  uri: ${options.redisUri}`,
    "modules:",
    "  signing:",
    "    required: false",
  ].join("\n");
  const root = tempDir("prexor-member-");
  const config = fleetConfig(root, options.intervalSeconds, yaml, options.clusterSecret);
  return startController({ root, config, log: silentLogger() });
}

/** `yaml` is appended at the top level; `clusterSecret` goes into the suite's security block. */
export function fleetConfig(
  root: string,
  intervalSeconds: number,
  yaml = "",
  clusterSecret?: string,
): ControllerConfig {
  const config = parseControllerConfig(
    [
      "http:",
      "  host: 127.0.0.1",
      "grpc:",
      "  host: 127.0.0.1",
      "scheduler:",
      `  evaluationIntervalSeconds: ${intervalSeconds}`,
      // Tests never reach the internet: a catalog miss stays a miss unless a test configures `catalog:` itself.
      ...(yaml.includes("catalog:") ? [] : ["catalog:", "  downloads:", "    enabled: false"]),
      "security:",
      `  initialAdminPassword: ${FLEET_ADMIN_PASSWORD}`,
      "  rateLimiting:",
      "    perIpPerMinute: 100000",
      "    perUserPerMinute: 100000",
      ...(clusterSecret ? [`  clusterSecret: ${clusterSecret}`] : []),
      yaml,
    ].join("\n"),
    join(root, "controller.yml"),
    { env: {} },
  );
  config.http.port = 0;
  config.grpc.port = 0;
  return config;
}

export async function adminApi(controller: RunningController): Promise<Fleet["api"]> {
  const base = `http://127.0.0.1:${controller.httpPort}`;
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: FLEET_ADMIN_PASSWORD }),
  });
  if (login.status !== 200) throw new Error(`admin login failed: ${login.status} ${await login.text()}`);
  const { token } = (await login.json()) as { token: string };
  return (method, path, body) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}

export async function startFleet(options: {
  daemons: number;
  nodeMemoryMb: number;
  intervalSeconds?: number;
  /** node ids; default fleet-00, fleet-01, … */
  nodeIds?: string[];
  /** connect only the first n daemons now (default all); tests connect the rest themselves */
  connect?: number;
  yaml?: string;
  root?: string;
}): Promise<Fleet> {
  const root = options.root ?? tempDir("prexor-fleet-");
  const config = fleetConfig(root, options.intervalSeconds ?? 1, options.yaml);
  const controller = await startController({ root, config, log: silentLogger() });
  const address = `127.0.0.1:${controller.grpcPort}`;
  const ids =
    options.nodeIds ??
    Array.from({ length: options.daemons }, (_, i) => `fleet-${String(i).padStart(2, "0")}`);
  const daemons: SimulatedDaemon[] = [];
  for (const nodeId of ids) {
    const daemon = new SimulatedDaemon(await issueNodeCredentials(controller.pki.ca, nodeId), {
      memoryMb: options.nodeMemoryMb,
    });
    if (daemons.length < (options.connect ?? ids.length)) await daemon.connect(address);
    daemons.push(daemon);
  }
  const api = await adminApi(controller);
  return {
    root,
    grpcAddress: address,
    controller,
    config,
    daemons,
    api,
    stop: async () => {
      await Promise.allSettled(daemons.map((d) => d.disconnect()));
      await controller.stop();
    },
  };
}
