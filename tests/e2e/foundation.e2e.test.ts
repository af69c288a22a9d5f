import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/adapters.ts";
import { ctlPath, ensureBinary, type Running, runBinary, startBinary } from "../support/binary.ts";
import { freePort } from "../support/ports.ts";
import { mongoServer, redisServer } from "../support/servers.ts";
import { randomId, waitFor } from "../support/wait.ts";

ensureBinary();
const mongo = await mongoServer();
const redis = await redisServer();
const running: Running[] = [];
afterAll(async () => {
  for (const r of running.splice(0)) await r.stop("SIGKILL");
});

/** The readiness body once it is 200: liveness answers first, while the rest still starts. */
async function readyBody(port: number): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/system/ready`);
    return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

async function health(port: number): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/system/health`);
    return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

describe("prexor up", () => {
  test("brings up a controller on the embedded store, prints the admin password once, stops cleanly on SIGINT", async () => {
    const dir = tempDir();
    const port = await freePort();
    const up = startBinary([
      "up",
      "--dir",
      dir,
      "--port",
      String(port),
      "--grpc-port",
      String(await freePort()),
    ]);
    running.push(up);
    const body = await waitFor(() => health(port), { timeoutMs: 15_000, what: "health UP" });
    expect(body.status).toBe("UP");
    expect(body.profile).toBe("development");
    const ready = await waitFor(() => readyBody(port), { timeoutMs: 15_000, what: "ready UP" });
    expect(ready).toMatchObject({ status: "UP", store: "embedded", coordinationKind: "memory" });

    const passwordFile = join(dir, "config/.initial-admin-password");
    await waitFor(() => up.output().includes("admin password"), { what: "password line" });
    const password = readFileSync(passwordFile, "utf8").trim();
    expect(password).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
    expect(up.output().split(password).length - 1).toBe(1); // printed once, never logged

    // A second controller on the same embedded store is refused with a clear message.
    const second = runBinary([
      "up",
      "--dir",
      dir,
      "--port",
      String(await freePort()),
      "--grpc-port",
      String(await freePort()),
    ]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("in use by another controller (pid ");

    expect(await up.stop("SIGINT")).toBe(0);
    expect(up.output()).toContain("shutting down");
    expect(await health(port)).toBeNull();

    // A restart keeps the admin and does not print a new password.
    const again = startBinary([
      "up",
      "--dir",
      dir,
      "--port",
      String(port),
      "--grpc-port",
      String(await freePort()),
    ]);
    running.push(again);
    await waitFor(() => readyBody(port), { timeoutMs: 15_000, what: "ready after restart" });
    await waitFor(() => again.output().includes("PrexorCloud is up"), { what: "the up banner" });
    expect(again.output()).not.toContain("admin password");
    expect(await again.stop("SIGTERM")).toBe(0);
  });
});

describe("configuration errors stop the controller before anything starts", () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      "wrong type",
      "http:\n  port: eighty\n",
      /controller\.yml:2: http\.port: expected an integer from 1 to 65535, got "eighty"/,
    ],
    ["unknown key", "htttp:\n  port: 8080\n", /controller\.yml:1: htttp: unknown key/],
    ["bad YAML", "http:\n  port: [8080\n", /controller\.yml:\d+: invalid YAML/],
  ];
  for (const [name, yaml, pattern] of cases) {
    test(name, async () => {
      const root = tempDir();
      mkdirSync(join(root, "config"));
      const port = await freePort();
      writeFileSync(join(root, "config/controller.yml"), yaml.replace("8080", String(port)));
      const result = runBinary(["controller", "--root", root]);
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toMatch(pattern);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(existsSync(join(root, "data"))).toBe(false);
      const check = runBinary(["config", "check", join(root, "config/controller.yml")]);
      expect(check.code).toBe(1);
      expect(check.stderr).toMatch(pattern);
    });
  }

  test("config check accepts a valid file", () => {
    const root = tempDir();
    writeFileSync(join(root, "daemon.yml"), "nodeId: mc-1\ncontroller:\n  host: 10.0.0.5\n");
    const result = runBinary(["config", "check", join(root, "daemon.yml")]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("OK (daemon mc-1 → 10.0.0.5:9090)");
  });
});

describe("production profile", () => {
  function productionRoot(mongoUri: string, redisUri: string, port: number, grpcPort: number): string {
    const root = tempDir();
    mkdirSync(join(root, "config"));
    writeFileSync(
      join(root, "config/controller.yml"),
      [
        "runtime:",
        "  profile: production",
        "http:",
        "  host: 127.0.0.1",
        `  port: ${port}`,
        "grpc:",
        `  port: ${grpcPort}`,
        "database:",
        `  uri: ${mongoUri}`,
        `  database: ${randomId("e2e_")}`,
        "  connectTimeoutMs: 1500",
        "redis:",
        `  uri: ${redisUri}`,
        "  connectTimeoutMs: 1500",
        "modules:",
        "  signing:",
        "    required: false",
        "security:",
        "  clusterSecret: e2e-cluster-secret-0123456789",
        "",
      ].join("\n"),
    );
    return root;
  }

  test("refuses to start without a reachable MongoDB, naming it and the URI with the password redacted", async () => {
    const root = productionRoot(
      "mongodb://ops:s3cret@127.0.0.1:1",
      "redis://127.0.0.1:1",
      await freePort(),
      await freePort(),
    );
    const result = runBinary(["controller", "--root", root]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cannot reach MongoDB at mongodb://ops:***@127.0.0.1:1");
    expect(result.stdout + result.stderr).not.toContain("s3cret");
  });

  test.skipIf(Boolean(mongo.skip))("refuses to start without a reachable Valkey, naming it", async () => {
    const root = productionRoot(
      mongo.server!.uri,
      "redis://:pw@127.0.0.1:1",
      await freePort(),
      await freePort(),
    );
    const result = runBinary(["controller", "--root", root]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cannot reach Valkey/Redis at redis://:***@127.0.0.1:1");
  });

  test.skipIf(Boolean(mongo.skip || redis.skip))(
    "starts on MongoDB + Valkey and reports both ready",
    async () => {
      const port = await freePort();
      const root = productionRoot(mongo.server!.uri, redis.server!.uri, port, await freePort());
      const controller = startBinary(["controller", "--root", root]);
      running.push(controller);
      await waitFor(() => health(port), { timeoutMs: 15_000, what: "production health" });
      const ready = await waitFor(() => readyBody(port), { timeoutMs: 15_000, what: "production ready" });
      expect(ready).toMatchObject({ status: "UP", store: "mongodb", coordinationKind: "valkey" });
      expect(await controller.stop()).toBe(0);
    },
  );
});

describe("one binary, several names", () => {
  test("prexorctl is the same file under another name", () => {
    expect(lstatSync(ctlPath).isSymbolicLink()).toBe(true);
    const result = runBinary(["version", "--server", "http://127.0.0.1:1"], { bin: ctlPath });
    expect(result.code).toBe(0);
    expect(result.stdout).toStartWith("prexorctl ");
    expect(result.stdout).toContain("unreachable");
  });

  test("unknown sub-commands and flags print usage and exit 2", () => {
    for (const args of [["frobnicate"], ["up", "--frobnicate"], ["config", "check"], ["setup", "--role"]]) {
      const result = runBinary(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("USAGE");
      expect(result.stderr).toContain("error:");
    }
    const ctl = runBinary(["frobnicate"], { bin: ctlPath });
    expect(ctl.code).toBe(2);
  });

  test("version prints the build", () => {
    const result = runBinary(["version", "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ version: expect.any(String), protocolVersion: 1 });
  });

  test("setup installs a controller host: directories, a config that checks, a hardened unit", () => {
    const root = tempDir();
    const result = runBinary([
      "setup",
      "--role",
      "controller",
      "--root",
      root,
      "--mongo-uri",
      "mongodb://db:27017",
      "--redis-uri",
      "redis://cache:6379",
    ]);
    expect(result.code).toBe(0);
    const config = join(root, "etc/prexorcloud/config/controller.yml");
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, "etc/prexorcloud/config/security")).mode & 0o777).toBe(0o700);
    expect(runBinary(["config", "check", config]).code).toBe(0);
    const unit = readFileSync(join(root, "etc/systemd/system/prexorcloud-controller.service"), "utf8");
    expect(unit).toContain("controller --root /var/lib/prexorcloud/controller");
    expect(unit).toContain("NoNewPrivileges=true");
    expect(unit).toContain("ProtectSystem=strict");
    expect(runBinary(["setup", "--role", "nope", "--dry-run"]).code).toBe(2);
  });
});
