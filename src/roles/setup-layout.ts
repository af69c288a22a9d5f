/**
 * Where a native install puts things (seed 001's checklist) and the hardened systemd units that run it
 * (spec 80 §5, seed 001 §10 and §14). Pure: paths and file texts only, shared by `prexor setup` and the
 * release archives.
 */
export type Role = "controller" | "daemon";

export interface Layout {
  binary: string;
  /** Config directory: controller.yml / daemon.yml, security/, the bootstrap password file. */
  configDir: string;
  /** The role's install root (`prexor <role> --root`); its `config` is a link to configDir. */
  stateDir: string;
  secretsDir: string;
  unitFile: string;
}

export const SERVICE_USER = "prexorcloud";

/** Paths as they are on the target host (a `--root` prefix is applied by the caller, like DESTDIR). */
export function layout(role: Role): Layout {
  return {
    binary: "/usr/local/bin/prexor",
    configDir: role === "controller" ? "/etc/prexorcloud/config" : "/etc/prexorcloud/daemon",
    stateDir: `/var/lib/prexorcloud/${role}`,
    secretsDir: "/etc/prexorcloud/secrets",
    unitFile: `/etc/systemd/system/prexorcloud-${role}.service`,
  };
}

/** State directories under the role's root, created 0750 and owned by the service user. */
export const STATE_DIRS: Record<Role, string[]> = {
  controller: ["data", "templates", "modules", "modules/data", "backups", "logs"],
  daemon: ["instances", "cache", "logs"],
};

export function systemdUnit(role: Role, paths: Layout = layout(role), user = SERVICE_USER): string {
  const controller = role === "controller";
  const hardening = [
    "NoNewPrivileges=true",
    "PrivateTmp=true",
    "ProtectSystem=strict",
    "ProtectHome=true",
    "ProtectKernelTunables=true",
    "ProtectKernelModules=true",
    "ProtectControlGroups=true",
    "RestrictSUIDSGID=true",
    "LockPersonality=true",
    // The daemon runs operator-chosen workloads (Minecraft JVMs, custom argv), so it keeps namespaces,
    // realtime scheduling and other syscall ABIs available; the controller needs none of them.
    ...(controller
      ? ["RestrictNamespaces=true", "RestrictRealtime=true", "SystemCallArchitectures=native"]
      : []),
  ];
  // Workloads outlive their daemon (a restart or an upgrade re-adopts them), so stopping the unit
  // ends the daemon process alone, not every server in its control group.
  const DAEMON_KILL_MODE = "KillMode=process\n";
  return `# PrexorCloud ${role}; written by \`prexor setup --role ${role}\`.
[Unit]
Description=PrexorCloud ${role}
Documentation=https://github.com/prexorjustin/prexorcloud
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${user}
Group=${user}
WorkingDirectory=${paths.stateDir}
ExecStart=${paths.binary} ${role} --root ${paths.stateDir}
Restart=on-failure
RestartSec=5s
TimeoutStopSec=${controller ? 60 : 120}s
LimitNOFILE=${controller ? 65536 : 131072}
${controller ? "" : "TasksMax=infinity\n"}${controller ? "" : DAEMON_KILL_MODE}UMask=0027
${hardening.join("\n")}
ReadWritePaths=${paths.stateDir} ${paths.configDir}

[Install]
WantedBy=multi-user.target
`;
}
