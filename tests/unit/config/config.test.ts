import { describe, expect, test } from "bun:test";
import { parseControllerConfig, storeDriverOf } from "../../../src/config/controller-config.ts";
import { parseDaemonConfig } from "../../../src/config/daemon-config.ts";
import { ConfigError } from "../../../src/config/issues.ts";

function issuesOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

const noEnv = { env: {} };

describe("controller.yml", () => {
  test("an empty file gives the documented defaults", () => {
    const c = parseControllerConfig("", "controller.yml", noEnv);
    expect(c.http.port).toBe(8080);
    expect(c.grpc.port).toBe(9090);
    expect(c.runtime.profile).toBe("development");
    expect(c.network.allowedSubnets).toEqual(["0.0.0.0/0", "::/0"]);
    expect(c.scheduler.evaluationIntervalSeconds).toBe(15);
    expect(c.heartbeat).toEqual({
      intervalMs: 30000,
      missedThreshold: 3,
      sessionLeaseMs: 10000,
      instanceLostGraceMs: 20000,
    });
    expect(c.security.lockout).toEqual({
      enabled: true,
      maxAttempts: 5,
      accountMaxAttempts: 100,
      windowSeconds: 900,
      lockoutSeconds: 900,
    });
    expect(c.security.rateLimiting.perIpPerMinute).toBe(100);
    expect(c.security.jwtExpirationMinutes).toBe(1440);
    expect(c.crashes).toEqual({ ringBufferSize: 500, crashLoopThreshold: 3, crashLoopWindowSeconds: 300 });
    expect(c.redis).toBeUndefined();
    expect(storeDriverOf(c)).toBe("embedded");
  });

  test("a wrong type names the key path, the expected type and the line", () => {
    const err = issuesOf(() =>
      parseControllerConfig("runtime:\n  profile: development\nhttp:\n  port: eighty\n", "c.yml", noEnv),
    );
    expect(err.issues).toHaveLength(1);
    expect(err.message).toBe('c.yml:4: http.port: expected an integer from 1 to 65535, got "eighty"');
  });

  test("an unknown key is reported with a suggestion, not ignored", () => {
    const err = issuesOf(() =>
      parseControllerConfig("http:\n  prot: 80\nsecurity:\n  lockout:\n    maxAttemps: 3\n", "c.yml", noEnv),
    );
    expect(err.issues.map((i) => [i.path, i.line])).toEqual([
      ["http.prot", 2],
      ["security.lockout.maxAttemps", 5],
    ]);
    expect(err.message).toContain('did you mean "port"');
    expect(err.message).toContain('did you mean "maxAttempts"');
  });

  test("bad YAML is reported with its line", () => {
    const err = issuesOf(() => parseControllerConfig("http:\n  port: 8080\n  host: [oops\n", "c.yml", noEnv));
    expect(err.issues[0]!.message).toStartWith("invalid YAML");
    expect(err.issues[0]!.line).toBeGreaterThanOrEqual(3);
  });

  test("enumerations list what they accept", () => {
    const err = issuesOf(() => parseControllerConfig("runtime:\n  profile: prod\n", "c.yml", noEnv));
    expect(err.message).toBe('c.yml:2: runtime.profile: expected one of development, production, got "prod"');
  });

  test("all problems are collected before failing", () => {
    const err = issuesOf(() =>
      parseControllerConfig("http:\n  port: 0\ngrpc:\n  port: 70000\nbogus: 1\n", "c.yml", noEnv),
    );
    expect(err.issues.map((i) => i.path).sort()).toEqual(["bogus", "grpc.port", "http.port"]);
  });

  test("production needs Valkey and MongoDB", () => {
    const err = issuesOf(() => parseControllerConfig("runtime:\n  profile: production\n", "c.yml", noEnv));
    expect(err.issues.map((i) => i.path)).toContain("redis.uri");
    const ok = parseControllerConfig(
      "runtime:\n  profile: production\nredis:\n  uri: redis://r:6379\nmodules:\n  signing:\n    required: false\nsecurity:\n  clusterSecret: 0123456789abcdef0123\n",
      "c.yml",
      noEnv,
    );
    expect(storeDriverOf(ok)).toBe("mongodb");
    expect(ok.redis?.uri).toBe("redis://r:6379");
    const embedded = issuesOf(() =>
      parseControllerConfig(
        "runtime:\n  profile: production\nredis: {}\ndatabase:\n  driver: embedded\nmodules:\n  signing:\n    required: false\nsecurity:\n  clusterSecret: 0123456789abcdef0123\n",
        "c.yml",
        noEnv,
      ),
    );
    expect(embedded.issues.map((i) => i.path)).toEqual(["database.driver"]);
  });

  test("http and grpc may not share a port; short JWT secrets are refused", () => {
    const err = issuesOf(() =>
      parseControllerConfig("http:\n  port: 9090\nsecurity:\n  jwtSecret: c2hvcnQ=\n", "c.yml", noEnv),
    );
    expect(err.issues.map((i) => i.path).sort()).toEqual(["grpc.port", "security.jwtSecret"]);
  });

  test("PREXOR_* variables override the file, typed by the schema", () => {
    const c = parseControllerConfig("http:\n  port: 8080\n", "c.yml", {
      env: {
        PREXOR_HTTP__PORT: "9000",
        PREXOR_SECURITY__RATE_LIMITING__PER_IP_PER_MINUTE: "7",
        PREXOR_SECURITY__LOCKOUT__ENABLED: "false",
        PREXOR_NETWORK__ALLOWED_SUBNETS: "10.0.0.0/8, 192.168.0.0/16",
        PREXOR_REDIS__URI: "redis://127.0.0.1:6380",
        PREXOR_TOKEN: "not-config",
      },
    });
    expect(c.http.port).toBe(9000);
    expect(c.security.rateLimiting.perIpPerMinute).toBe(7);
    expect(c.security.lockout.enabled).toBe(false);
    expect(c.network.allowedSubnets).toEqual(["10.0.0.0/8", "192.168.0.0/16"]);
    expect(c.redis?.uri).toBe("redis://127.0.0.1:6380");
  });

  test("a bad environment override names the variable", () => {
    const err = issuesOf(() =>
      parseControllerConfig("", "c.yml", { env: { PREXOR_HTTP__PORT: "x", PREXOR_HTTP__PROT: "1" } }),
    );
    expect(err.message).toContain("env PREXOR_HTTP__PORT: http.port: expected an integer");
    expect(err.message).toContain("env PREXOR_HTTP__PROT: http.prot: unknown key");
  });
});

describe("daemon.yml", () => {
  test("defaults and validation", () => {
    const d = parseDaemonConfig("", "daemon.yml", noEnv);
    expect(d.nodeId).toBe("node-1");
    expect(d.controller).toEqual({
      host: "127.0.0.1",
      grpcPort: 9090,
      httpPort: 8080,
      endpoints: [],
      helloTimeoutMs: 5000,
    });
    expect(d.reconnect).toEqual({ initialDelayMs: 1000, maxDelayMs: 5000, multiplier: 2, jitter: 0.2 });
    const err = issuesOf(() =>
      parseDaemonConfig("nodeId: Bad Id\nlabels:\n  zone: eu\n", "daemon.yml", noEnv),
    );
    expect(err.issues.map((i) => i.path)).toEqual(["nodeId"]);
    expect(parseDaemonConfig("", "daemon.yml", { env: { PREXOR_DAEMON_NODE_ID: "mc-7" } }).nodeId).toBe(
      "mc-7",
    );
  });
});
