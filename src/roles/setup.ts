import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { defineCommand } from "citty";
import { loadControllerConfig } from "../config/controller-config.ts";
import { loadDaemonConfig } from "../config/daemon-config.ts";
import { systemClock } from "../core/clock.ts";
import { isNodeId } from "../core/names.ts";
import { EMBEDDED_TRUSTED_ROOT } from "../signing/trust-material.ts";
import { layout, type Role, SERVICE_USER } from "./setup-layout.ts";
import { planSetup, type SetupInput, type Step } from "./setup-plan.ts";
import { report, UsageError } from "./strict-run.ts";

/** The public-good Rekor v1 key (embedded trust root) as PEM, for config/security/rekor.pub. */
function publicGoodRekorPem(): string {
  const root = EMBEDDED_TRUSTED_ROOT as { tlogs: { baseUrl: string; publicKey: { rawBytes: string } }[] };
  const rekor = root.tlogs.find((t) => t.baseUrl === "https://rekor.sigstore.dev");
  if (!rekor) throw new Error("embedded trust root has no rekor.sigstore.dev key");
  const body = rekor.publicKey.rawBytes.match(/.{1,64}/g)?.join("\n");
  return `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----\n`;
}

function parseAddress(value: string, flag: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) throw new UsageError(`${flag} expects HOST:PORT, got "${value}"`);
  return { host: match[1] as string, port };
}

function parsePort(value: string, flag: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`${flag} expects a port from 1 to 65535, got "${value}"`);
  return port;
}

function systemdIsPid1(): boolean {
  try {
    return readFileSync("/proc/1/comm", "utf8").trim() === "systemd";
  } catch {
    // no /proc/1/comm: not systemd
    return false;
  }
}

function ids(user: string): { uid: number; gid: number } | undefined {
  const uid = spawnSync("id", ["-u", user], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", user], { encoding: "utf8" });
  return uid.status === 0 && gid.status === 0
    ? { uid: Number(uid.stdout), gid: Number(gid.stdout) }
    : undefined;
}

function describe(step: Step): string {
  const mode = "mode" in step ? ` (${step.mode.toString(8).padStart(4, "0")})` : "";
  switch (step.kind) {
    case "user":
      return `create system user ${step.name} (no login shell, no home)`;
    case "dir":
      return `create directory ${step.path}${mode}`;
    case "link":
      return `link ${step.path} -> ${step.target}`;
    case "file":
      return `write ${step.path}${mode}${step.keep ? " unless it exists" : ""}`;
  }
}

/**
 * Applies the plan. `prefix` set (--root): everything lands under it and nothing host-wide happens
 * (no user, no chown, no systemctl) — for tests and packagers.
 */
function apply(steps: Step[], prefix: string | undefined, log: (line: string) => void): void {
  const at = (path: string) => (prefix ? join(prefix, path) : path);
  let owner: { uid: number; gid: number } | undefined;
  for (const step of steps) {
    if (step.kind === "user") {
      if (prefix) continue;
      owner = ids(step.name);
      if (!owner) {
        const made = spawnSync(
          "useradd",
          [
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/var/lib/prexorcloud",
            "--shell",
            "/usr/sbin/nologin",
            step.name,
          ],
          { encoding: "utf8" },
        );
        if (made.status !== 0) throw new Error(`useradd ${step.name} failed: ${made.stderr.trim()}`);
        owner = ids(step.name);
        log(`created system user ${step.name}`);
      }
      continue;
    }
    const path = at(step.path);
    if (step.kind === "dir") {
      mkdirSync(path, { recursive: true, mode: step.mode });
      chmodSync(path, step.mode);
    } else if (step.kind === "link") {
      if (!existsSync(path) && !isLink(path)) symlinkSync(step.target, path);
    } else {
      if (step.keep && existsSync(path)) {
        log(`kept existing ${path}`);
        continue;
      }
      // Written with its final mode from the first byte: a secret is never world-readable, not even briefly.
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
      writeFileSync(`${path}.tmp`, step.content, { mode: step.mode });
      chmodSync(`${path}.tmp`, step.mode);
      renameSync(`${path}.tmp`, path);
      log(`wrote ${path}`);
    }
    if (owner && "owned" in step && step.owned) chownSync(path, owner.uid, owner.gid);
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    // no such path: not a link
    return false;
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = systemClock.now() + timeoutMs;
  while (systemClock.now() < deadline) {
    // not ready yet: probe again until the deadline
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await Bun.sleep(500);
  }
  throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
}

/** Logs the invoking (sudo) user's prexorctl into the new controller with the bootstrap password. */
async function loginInvokingUser(
  configDir: string,
  httpPort: number,
  log: (line: string) => void,
): Promise<void> {
  const passwordFile = join(configDir, ".initial-admin-password");
  const password = await waitFor("the bootstrap password file", 30_000, async () =>
    existsSync(passwordFile) ? readFileSync(passwordFile, "utf8").trim() : undefined,
  );
  const server = `http://127.0.0.1:${httpPort}`;
  const res = await fetch(`${server}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password }),
  });
  if (res.status !== 200) throw new Error(`login as admin failed: HTTP ${res.status}`);
  const { token } = (await res.json()) as { token: string };
  const sudoUser = process.env.SUDO_USER;
  const passwd = sudoUser
    ? spawnSync("getent", ["passwd", sudoUser], { encoding: "utf8" }).stdout.split(":")
    : [];
  const home = passwd[5] ?? process.env.HOME ?? "/root";
  const { configPath, loadConfig, saveConfig } = await import("../cli/config-store.ts");
  const file = configPath({ HOME: home });
  const config = loadConfig(file);
  config.contexts.local = { server, username: "admin", token };
  config.currentContext = "local";
  saveConfig(file, config);
  if (sudoUser && passwd[2] && passwd[3]) {
    chownSync(join(home, ".config/prexorctl"), Number(passwd[2]), Number(passwd[3]));
    chownSync(file, Number(passwd[2]), Number(passwd[3]));
  }
  log(
    `prexorctl of ${sudoUser ?? "root"} logged in as admin (context "local"); change the password now: prexorctl user change-password`,
  );
}

/**
 * `prexor setup --role controller|daemon` (also `prexorctl setup`): the service user, directories
 * with their modes, the config, the hardened unit; then `systemctl enable --now` when systemd is
 * PID 1 (else the exact commands), the wait for health, and the invoking user's login.
 */
export const setupCommand = defineCommand({
  meta: { name: "setup", description: "Install this host as a controller or a daemon" },
  args: {
    role: { type: "string", description: "controller | daemon", required: true },
    root: {
      type: "string",
      description: "install under this prefix (tests, packagers); no user, no systemctl",
    },
    "dry-run": { type: "boolean", description: "print what would be done, change nothing" },
    profile: { type: "string", description: "controller: production | development", default: "production" },
    "mongo-uri": { type: "string", description: "controller: MongoDB URI" },
    "redis-uri": { type: "string", description: "controller: Valkey/Redis URI" },
    bind: { type: "string", description: "controller: address REST and gRPC listen on", default: "0.0.0.0" },
    "http-port": { type: "string", description: "controller: REST port", default: "8080" },
    "grpc-port": { type: "string", description: "controller: gRPC port", default: "9090" },
    "cluster-secret": {
      type: "string",
      description:
        "controller: the secret sealing the cluster CA, the same on every controller (generated when omitted)",
    },
    bootstrap: {
      type: "boolean",
      description: "controller: first controller of a cluster (--bootstrap=false joins an existing one)",
      default: true,
    },
    "node-id": { type: "string", description: "daemon: node id", default: "node-1" },
    controller: {
      type: "string",
      description: "daemon: controller gRPC address HOST:PORT",
      default: "127.0.0.1:9090",
    },
    "join-token": { type: "string", description: "daemon: one-time join token" },
    user: { type: "string", description: "service user", default: SERVICE_USER },
  },
  async run({ args }) {
    const role = args.role as Role;
    if (role !== "controller" && role !== "daemon")
      throw new UsageError(`--role must be controller or daemon, got "${args.role}"`);
    if (args.profile !== "production" && args.profile !== "development")
      throw new UsageError(`--profile must be production or development, got "${args.profile}"`);
    if (role === "controller" && !args.bootstrap && !args["cluster-secret"])
      throw new UsageError(
        "--bootstrap=false needs --cluster-secret: the first controller's security.clusterSecret",
      );
    if (role === "daemon" && !isNodeId(args["node-id"]))
      throw new UsageError(`--node-id expects lowercase letters, digits and '-', got "${args["node-id"]}"`);
    const prefix = args.root ? resolve(args.root) : undefined;
    const dryRun = args["dry-run"] === true;
    if (!prefix && !dryRun && process.getuid?.() !== 0)
      throw new UsageError("setup changes the host: run it as root (sudo), or use --root DIR / --dry-run");

    const moduleKey = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const input: SetupInput = {
      role,
      profile: args.profile,
      bind: args.bind,
      httpPort: parsePort(args["http-port"], "--http-port"),
      grpcPort: parsePort(args["grpc-port"], "--grpc-port"),
      mongoUri: args["mongo-uri"],
      redisUri: args["redis-uri"],
      clusterSecret:
        args["cluster-secret"] ??
        Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url"),
      bootstrap: args.bootstrap,
      nodeId: args["node-id"],
      controller: parseAddress(args.controller, "--controller"),
      joinToken: args["join-token"],
      rekorPublicKeyPem: publicGoodRekorPem(),
      moduleTrustPem: moduleKey.publicKey.export({ type: "spki", format: "pem" }).toString(),
      moduleSigningKeyPem: moduleKey.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      user: args.user,
    };
    const steps = planSetup(input);
    const paths = layout(role);
    const unit = `prexorcloud-${role}`;
    const start = [`systemctl daemon-reload`, `systemctl enable --now ${unit}`];
    if (dryRun) {
      for (const step of steps) console.log(`would ${describe(step)}${prefix ? ` under ${prefix}` : ""}`);
      console.log(
        prefix || !systemdIsPid1()
          ? `would print: ${start.join(" && ")}`
          : `would run: ${start.join(" && ")}`,
      );
      return 0;
    }
    try {
      apply(steps, prefix, (line) => console.log(line));
      const at = (p: string) => (prefix ? join(prefix, p) : p);
      const file = at(`${paths.configDir}/${role}.yml`);
      if (role === "controller") loadControllerConfig(file);
      else loadDaemonConfig(file);
      if (prefix || !systemdIsPid1()) {
        console.log(
          `systemd is not running this host${prefix ? " (or --root was given)" : ""}; start it with:`,
        );
        console.log(`  ${start.join(" && ")}`);
        console.log(`or directly: ${paths.binary} ${role} --root ${paths.stateDir}`);
        return 0;
      }
      for (const command of start) {
        const ran = spawnSync("sh", ["-c", command], { stdio: "inherit" });
        if (ran.status !== 0)
          throw new Error(`${command} failed (exit ${ran.status}); see journalctl -u ${unit}`);
      }
      if (role === "controller") {
        await waitFor("controller health UP", 60_000, async () => {
          const res = await fetch(`http://127.0.0.1:${input.httpPort}/api/v1/system/health`);
          return res.status === 200 ? true : undefined;
        });
        console.log(`controller is UP on :${input.httpPort}`);
        if (input.bootstrap) await loginInvokingUser(paths.configDir, input.httpPort, (l) => console.log(l));
      } else {
        // Enrolment writes the node's mTLS identity; from then on the daemon holds its stream open.
        const { identityExists } = await import("../daemon/identity-store.ts");
        await waitFor("daemon enrolment", 60_000, async () =>
          identityExists(join(paths.configDir, "security")) ? true : undefined,
        );
        console.log(`daemon ${input.nodeId} enrolled; \`prexorctl node list\` shows it ONLINE`);
      }
      return 0;
    } catch (err) {
      return report(err);
    }
  },
});
