/**
 * `prexor setup --root PREFIX` with the compiled binary: a production controller and a daemon are set
 * up into a scratch prefix (modes, the config-dir link, production signing defaults), systemd-analyze
 * accepts the units as written, and both started from the written configs reach health UP and ONLINE.
 * Re-running setup keeps the operator's config; --dry-run and `prexorctl setup` write nothing.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { tempDir } from "../support/adapters.ts";
import { AdminApi, ready } from "../support/admin-api.ts";
import { ctlPath, ensureBinary, type Running, runBinary, startBinary } from "../support/binary.ts";
import { freePort } from "../support/ports.ts";
import { mongoServer, redisServer } from "../support/servers.ts";
import { waitFor } from "../support/wait.ts";

const mongo = await mongoServer();
const redis = await redisServer();
const binary = ensureBinary();
const running: Running[] = [];
afterAll(async () => {
  for (const r of running.splice(0)) await r.stop("SIGKILL");
});

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe("prexor setup --root", () => {
  const prefix = tempDir("prexor-setup-");
  const config = join(prefix, "etc/prexorcloud/config");
  let httpPort = 0;
  let grpcPort = 0;
  let api: AdminApi;

  test.skipIf(Boolean(mongo.skip || redis.skip))(
    "a production controller: dirs and modes, signing required with REQUIRE_SET, then health UP",
    async () => {
      httpPort = await freePort();
      grpcPort = await freePort();
      const args = ["setup", "--role", "controller", "--root", prefix, "--bind", "127.0.0.1"];
      const flags = ["--mongo-uri", mongo.server!.uri, "--redis-uri", redis.server!.uri];
      const ports = ["--http-port", String(httpPort), "--grpc-port", String(grpcPort)];
      const setup = runBinary([...args, ...flags, ...ports]);
      expect(setup.code, setup.stdout + setup.stderr).toBe(0);
      expect(setup.stdout).toContain("systemctl enable --now prexorcloud-controller");

      expect(mode(join(config, "controller.yml"))).toBe("600");
      expect(mode(join(config, "security"))).toBe("700");
      expect(mode(join(prefix, "etc/prexorcloud/secrets/module-signing.key"))).toBe("600");
      expect(mode(join(prefix, "var/lib/prexorcloud/controller/data"))).toBe("750");
      const link = join(prefix, "var/lib/prexorcloud/controller/config");
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link)).toBe("../../../../etc/prexorcloud/config");
      const written = parse(readFileSync(join(config, "controller.yml"), "utf8"));
      expect(written.runtime.profile).toBe("production");
      expect(written.modules.signing).toEqual({
        required: true,
        mode: "COSIGN_BUNDLE",
        trustRoot: "/etc/prexorcloud/config/security/module-trust.pem",
        rekor: { policy: "REQUIRE_SET", publicKey: "/etc/prexorcloud/config/security/rekor.pub" },
      });
      expect(readFileSync(join(config, "security/rekor.pub"), "utf8")).toContain(
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y",
      );

      // Started from the written config, as the unit would start it.
      const controller = startBinary([
        "controller",
        "--root",
        join(prefix, "var/lib/prexorcloud/controller"),
      ]);
      running.push(controller);
      await waitFor(() => ready(httpPort), {
        timeoutMs: 30_000,
        what: `controller health\n${controller.output()}`,
      });
      const health = await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/system/health`)).json();
      expect((health as { status: string }).status).toBe("UP");
      const password = await waitFor(
        () =>
          existsSync(join(config, ".initial-admin-password"))
            ? readFileSync(join(config, ".initial-admin-password"), "utf8").trim()
            : "",
        { what: "the bootstrap password in /etc/prexorcloud/config" },
      );
      api = new AdminApi(`http://127.0.0.1:${httpPort}`);
      await api.login(password);

      // Idempotent: a second run keeps the operator's config (and its secrets).
      const before = readFileSync(join(config, "controller.yml"), "utf8");
      const again = runBinary([...args, ...flags, ...ports]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain("kept existing");
      expect(readFileSync(join(config, "controller.yml"), "utf8")).toBe(before);
    },
    90_000,
  );

  test.skipIf(Boolean(mongo.skip || redis.skip))(
    "a daemon with the controller's endpoint and a join token, started from daemon.yml, is ONLINE",
    async () => {
      const created = await api.call<{ token: string }>("POST", "/api/v1/admin/tokens", {
        nodeId: "setup-1",
      });
      expect(created.status).toBe(201);
      const setup = runBinary([
        "setup",
        "--role",
        "daemon",
        "--root",
        prefix,
        "--node-id",
        "setup-1",
        "--controller",
        `127.0.0.1:${grpcPort}`,
        "--join-token",
        created.body.token,
      ]);
      expect(setup.code, setup.stdout + setup.stderr).toBe(0);
      const daemonYml = join(prefix, "etc/prexorcloud/daemon/daemon.yml");
      expect(mode(daemonYml)).toBe("600");
      expect(parse(readFileSync(daemonYml, "utf8"))).toMatchObject({
        nodeId: "setup-1",
        controller: { host: "127.0.0.1", grpcPort },
        security: { joinToken: created.body.token },
      });
      const daemon = startBinary(["daemon", "--root", join(prefix, "var/lib/prexorcloud/daemon")]);
      running.push(daemon);
      await waitFor(
        async () => {
          const nodes = await api.call<{ data: { id: string; state: string }[] }>("GET", "/api/v1/nodes");
          return nodes.body.data.find((n) => n.id === "setup-1")?.state === "ONLINE";
        },
        { timeoutMs: 30_000, what: `setup-1 ONLINE\n${daemon.output()}` },
      );
    },
    60_000,
  );

  test("systemd-analyze verify accepts the units as setup wrote them", () => {
    const root = tempDir("prexor-units-");
    for (const role of ["controller", "daemon"]) {
      const out = runBinary(["setup", "--role", role, "--root", root, "--join-token", "pxr_x"]);
      expect(out.code, out.stderr).toBe(0);
    }
    // verify resolves ExecStart= and the targets inside the root: give it the binary and systemd's units.
    mkdirSync(join(root, "usr/local/bin"), { recursive: true });
    // A copy, not a link: verify resolves absolute link targets inside the root.
    copyFileSync(binary, join(root, "usr/local/bin/prexor"));
    chmodSync(join(root, "usr/local/bin/prexor"), 0o755);
    mkdirSync(join(root, "usr/lib/systemd"), { recursive: true });
    cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), {
      recursive: true,
      verbatimSymlinks: true,
    });
    const units = ["controller", "daemon"].map((r) => `/etc/systemd/system/prexorcloud-${r}.service`);
    const verify = spawnSync("systemd-analyze", ["verify", `--root=${root}`, ...units], { encoding: "utf8" });
    expect(verify.stdout + verify.stderr).toBe("");
    expect(verify.status).toBe(0);
    const daemonUnit = readFileSync(join(root, units[1]!), "utf8");
    expect(daemonUnit).toContain("LimitNOFILE=131072");
    expect(daemonUnit).toContain("TasksMax=infinity");
    for (const key of [
      "NoNewPrivileges=true",
      "ProtectSystem=strict",
      "ReadWritePaths=/var/lib/prexorcloud/daemon /etc/prexorcloud/daemon",
    ])
      expect(daemonUnit).toContain(key);
  });

  test("--dry-run and prexorctl setup (same flags) write nothing; bad flags are usage errors", () => {
    const root = tempDir("prexor-dry-");
    const dry = runBinary(["setup", "--role", "controller", "--root", join(root, "x"), "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("would write /etc/prexorcloud/config/controller.yml (0600)");
    const ctl = spawnSync(
      ctlPath,
      ["setup", "--role", "daemon", "--root", join(root, "x"), "--dry-run", "--bootstrap=false"],
      {
        encoding: "utf8",
      },
    );
    expect(ctl.status, ctl.stderr).toBe(0);
    expect(ctl.stdout).toContain("would write /etc/prexorcloud/daemon/daemon.yml (0600)");
    expect(existsSync(join(root, "x"))).toBe(false);
    const second = runBinary([
      "setup",
      "--role",
      "controller",
      "--root",
      join(root, "y"),
      "--bootstrap=false",
    ]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain("--bootstrap=false needs --cluster-secret");
    expect(runBinary(["setup", "--role", "proxy", "--dry-run"]).code).toBe(2);
  });
});
