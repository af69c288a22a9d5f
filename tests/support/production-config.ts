import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The controller.yml of a production-profile test controller (MongoDB + Valkey/Redis), written
 * under `<root>/config`. Tests that run several controllers against one store share this instead
 * of each spelling out the same file; `extra` holds any further top-level YAML (already indented).
 */
export function writeProductionConfig(
  root: string,
  options: {
    http: number;
    grpc: number;
    mongoUri: string;
    database: string;
    redisUri: string;
    clusterSecret: string;
    password: string;
    heartbeatMs?: number;
    missedThreshold?: number;
    sessionLeaseMs?: number;
    tickSeconds?: number;
    /** further `scheduler:` keys, indented two spaces */
    scheduler?: string[];
    extra?: string[];
  },
): void {
  mkdirSync(join(root, "config"), { recursive: true });
  writeFileSync(
    join(root, "config/controller.yml"),
    [
      "runtime:",
      "  profile: production",
      "http:",
      "  host: 127.0.0.1",
      `  port: ${options.http}`,
      "grpc:",
      "  host: 127.0.0.1",
      `  port: ${options.grpc}`,
      "database:",
      `  uri: ${options.mongoUri}`,
      `  database: ${options.database}`,
      "redis:",
      `  uri: ${options.redisUri}`,
      "heartbeat:",
      `  intervalMs: ${options.heartbeatMs ?? 500}`,
      `  missedThreshold: ${options.missedThreshold ?? 3}`,
      `  sessionLeaseMs: ${options.sessionLeaseMs ?? 2000}`,
      "scheduler:",
      `  evaluationIntervalSeconds: ${options.tickSeconds ?? 1}`,
      ...(options.scheduler ?? []),
      "catalog:",
      "  downloads:",
      "    enabled: false",
      "modules:",
      "  signing:",
      "    required: false",
      "security:",
      `  clusterSecret: ${options.clusterSecret}`,
      `  initialAdminPassword: ${options.password}`,
      "  rateLimiting:",
      "    perIpPerMinute: 1000000",
      "    perUserPerMinute: 1000000",
      ...(options.extra ?? []),
      "",
    ].join("\n"),
  );
}
