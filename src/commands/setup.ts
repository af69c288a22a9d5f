import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineCommand } from "citty";
import { stringify } from "yaml";
import { loadControllerConfig } from "../config/controller-config.ts";
import { loadDaemonConfig } from "../config/daemon-config.ts";
import { report, UsageError } from "./strict-run.ts";

const DIRS = {
  controller: ["config", "data", "templates", "modules", "modules/data", "backups", "logs"],
  daemon: ["config", "instances", "cache", "logs"],
};

function unit(role: "controller" | "daemon", binary: string, root: string, user: string): string {
  const controller = role === "controller";
  const writable = controller
    ? ["config", "data", "templates", "modules", "backups", "logs"]
    : ["config", "instances", "cache", "logs"];
  return `[Unit]
Description=PrexorCloud ${role}
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${user}
Group=${user}
WorkingDirectory=${root}
ExecStart=${binary} ${role} --root ${root}
Restart=on-failure
RestartSec=5s
TimeoutStopSec=${controller ? 60 : 120}s
LimitNOFILE=${controller ? 65536 : 131072}
${controller ? "" : "TasksMax=infinity\n"}NoNewPrivileges=true
PrivateTmp=true
ProtectSystem=strict
ProtectHome=true
${controller ? "ProtectKernelTunables=true\nProtectKernelModules=true\nProtectControlGroups=true\nRestrictNamespaces=true\nRestrictRealtime=true\nRestrictSUIDSGID=true\nLockPersonality=true\nSystemCallArchitectures=native\n" : ""}ReadWritePaths=${writable.map((d) => join(root, d)).join(" ")}

[Install]
WantedBy=multi-user.target
`;
}

/**
 * Installs a host non-interactively: directories, a config file (kept if one exists), and a
 * hardened systemd unit. Secrets land in files readable by the service user only.
 */
export const setupCommand = defineCommand({
  meta: { name: "setup", description: "Install this host as a controller or a daemon" },
  args: {
    role: { type: "string", description: "controller | daemon", required: true },
    dir: { type: "string", description: "install root (default /opt/prexorcloud/<role>)" },
    profile: { type: "string", description: "controller: development | production", default: "production" },
    "mongo-uri": { type: "string", description: "controller: MongoDB URI" },
    "redis-uri": { type: "string", description: "controller: Valkey/Redis URI" },
    "http-port": { type: "string", description: "controller: REST port", default: "8080" },
    "grpc-port": { type: "string", description: "controller: gRPC port", default: "9090" },
    "cluster-secret": {
      type: "string",
      description:
        "controller: secret sealing the cluster CA, the same on every controller (generated when omitted)",
    },
    "node-id": { type: "string", description: "daemon: node id" },
    controller: { type: "string", description: "daemon: controller gRPC address HOST:PORT" },
    "join-token": { type: "string", description: "daemon: one-time join token" },
    user: { type: "string", description: "service user", default: "prexorcloud" },
    "systemd-dir": { type: "string", description: "where to write the unit", default: "/etc/systemd/system" },
    systemd: { type: "boolean", description: "write a systemd unit (--no-systemd to skip)", default: true },
  },
  async run({ args }) {
    const role = args.role;
    if (role !== "controller" && role !== "daemon")
      throw new UsageError(`--role must be controller or daemon, got "${role}"`);
    const root = resolve(args.dir ?? `/opt/prexorcloud/${role}`);
    for (const dir of DIRS[role]) mkdirSync(join(root, dir), { recursive: true, mode: 0o750 });
    mkdirSync(join(root, "config/security"), { recursive: true, mode: 0o700 });
    const file = join(root, "config", `${role}.yml`);
    if (!existsSync(file)) {
      writeFileSync(file, role === "controller" ? controllerYaml(args) : daemonYaml(args), { mode: 0o600 });
      console.log(`wrote ${file}`);
    } else {
      console.log(`kept existing ${file}`);
    }
    try {
      if (role === "controller") loadControllerConfig(file);
      else loadDaemonConfig(file);
    } catch (err) {
      return report(err);
    }
    if (args.systemd) {
      const unitFile = join(resolve(args["systemd-dir"]), `prexorcloud-${role}.service`);
      mkdirSync(resolve(args["systemd-dir"]), { recursive: true });
      writeFileSync(unitFile, unit(role, process.execPath, root, args.user), { mode: 0o644 });
      console.log(
        `wrote ${unitFile}\nnext: useradd --system ${args.user}; chown -R ${args.user}: ${root}; systemctl enable --now prexorcloud-${role}`,
      );
    } else {
      console.log(`next: ${process.execPath} ${role} --root ${root}`);
    }
    return 0;
  },
});

function controllerYaml(args: Record<string, unknown>): string {
  const production = args.profile === "production";
  const config: Record<string, unknown> = {
    runtime: { profile: args.profile },
    http: { port: Number(args["http-port"]) },
    grpc: { port: Number(args["grpc-port"]) },
  };
  if (production || args["mongo-uri"])
    config.database = { uri: args["mongo-uri"] ?? "mongodb://localhost:27017" };
  if (production || args["redis-uri"]) config.redis = { uri: args["redis-uri"] ?? "redis://localhost:6379" };
  if (production) config.modules = { signing: { required: false } };
  // Production refuses to start without it; the file is 0600. A further controller of the same
  // cluster must be given the first one's value (--cluster-secret).
  if (production || args["cluster-secret"]) {
    config.security = {
      clusterSecret:
        args["cluster-secret"] ??
        Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url"),
    };
  }
  return `# PrexorCloud controller. Keys and defaults: see README; check with \`prexor config check\`.\n${stringify(config)}`;
}

function daemonYaml(args: Record<string, unknown>): string {
  const [host, port] = String(args.controller ?? "127.0.0.1:9090").split(":");
  const config: Record<string, unknown> = {
    nodeId: args["node-id"] ?? "node-1",
    controller: { host, grpcPort: Number(port ?? 9090) },
  };
  if (args["join-token"]) config.security = { joinToken: args["join-token"] };
  return `# PrexorCloud daemon. The join token is used once, at the first start; it is ignored once enrolled.\n${stringify(config)}`;
}
