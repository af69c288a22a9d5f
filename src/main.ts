#!/usr/bin/env bun
import { basename } from "node:path";
import { defineCommand } from "citty";
import { PRIVATE_UMASK } from "./core/fs/private-modes.ts";
import { runStrict } from "./roles/strict-run.ts";
import { versionCommand } from "./roles/version.ts";
import { VERSION } from "./version.ts";

// The framework's production mode before any role loads it (roles are imported lazily below):
// outside it Elysia pretty-prints rejected values into validation errors, which a hostile body
// turns into seconds of CPU and gigabytes of memory. An explicit NODE_ENV still wins.
process.env.NODE_ENV ??= "production";
// Everything the product writes (store, secrets, audit, configs, caches) is private to its user;
// directories 0700 and files 0600 unless a file is explicitly made wider.
process.umask(PRIVATE_UMASK);

/**
 * Sub-commands load on demand: a role pulls in only its own stack (gRPC, x509, the CLI …), which
 * keeps `prexor version`, the CLI and cold starts from paying for the others.
 */
const prexor = defineCommand({
  meta: {
    name: "prexor",
    version: VERSION,
    description: "PrexorCloud: controller, daemon and operator CLI in one binary",
  },
  subCommands: {
    controller: () => import("./roles/controller.ts").then((m) => m.controllerCommand),
    daemon: () => import("./roles/daemon.ts").then((m) => m.daemonCommand),
    up: () => import("./roles/up.ts").then((m) => m.upCommand),
    setup: () => import("./roles/setup.ts").then((m) => m.setupCommand),
    config: () => import("./roles/config-check.ts").then((m) => m.configCommand),
    admin: () => import("./roles/admin.ts").then((m) => m.adminCommand),
    verify: () => import("./roles/verify.ts").then((m) => m.verifyCommand),
    backup: () => import("./roles/backup-offline.ts").then((m) => m.backupCommand),
    migrate: () => import("./roles/migrate.ts").then((m) => m.migrateCommand),
    version: versionCommand,
    ctl: () => import("./roles/ctl.ts").then((m) => m.ctlCommand),
  },
});

/** The same file is prexorctl when invoked under that name (a symlink or a copy). */
function invokedAsCtl(): boolean {
  const names = [process.argv0, process.argv[1], process.execPath].map((p) => basename(p ?? ""));
  return names.some((n) => n === "prexorctl" || n === "pc");
}

const argv = process.argv.slice(2);
// `prexor ctl …` is prexorctl too; its runner also accepts global flags before the command words.
const asCtl = invokedAsCtl();
const ctlArgs = asCtl ? argv : argv[0] === "ctl" ? argv.slice(1) : undefined;
const code =
  ctlArgs?.[0] === "setup" // `prexorctl setup …` takes the same flags as `prexor setup …`
    ? await runStrict(prexor, ctlArgs)
    : asCtl || argv[0] === "ctl"
      ? await (await import("./roles/ctl.ts")).runCtl(asCtl ? argv : argv.slice(1))
      : await runStrict(prexor, argv);
process.exit(code);
