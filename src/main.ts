#!/usr/bin/env bun
import { basename } from "node:path";
import { defineCommand } from "citty";
import { configCommand } from "./commands/config-check.ts";
import { controllerCommand } from "./commands/controller.ts";
import { ctlCommand, runCtl } from "./commands/ctl.ts";
import { daemonCommand } from "./commands/daemon.ts";
import { setupCommand } from "./commands/setup.ts";
import { runStrict } from "./commands/strict-run.ts";
import { upCommand } from "./commands/up.ts";
import { versionCommand } from "./commands/version.ts";
import { VERSION } from "./version.ts";

const prexor = defineCommand({
  meta: {
    name: "prexor",
    version: VERSION,
    description: "PrexorCloud: controller, daemon and operator CLI in one binary",
  },
  subCommands: {
    controller: controllerCommand,
    daemon: daemonCommand,
    up: upCommand,
    setup: setupCommand,
    config: configCommand,
    version: versionCommand,
    ctl: ctlCommand,
  },
});

/** The same file is prexorctl when invoked under that name (a symlink or a copy). */
function invokedAsCtl(): boolean {
  const names = [process.argv0, process.argv[1], process.execPath].map((p) => basename(p ?? ""));
  return names.some((n) => n === "prexorctl" || n === "pc");
}

const argv = process.argv.slice(2);
// `prexor ctl …` is prexorctl too; its runner also accepts global flags before the command words.
const code = invokedAsCtl()
  ? await runCtl(argv)
  : argv[0] === "ctl"
    ? await runCtl(argv.slice(1))
    : await runStrict(prexor, argv);
process.exit(code);
