import { branch } from "../cli/command-kit.ts";
import { type AnyCommand, hoistGlobalFlags, locate } from "../cli/command-tree.ts";
import { auditCommand } from "../cli/commands/audit.ts";
import { loginCommand, logoutCommand } from "../cli/commands/auth.ts";
import { backupCommand, restoreCommand } from "../cli/commands/backup.ts";
import { catalogCommand } from "../cli/commands/catalog.ts";
import { completionCommand } from "../cli/commands/completion.ts";
import { contextCommand } from "../cli/commands/context.ts";
import { crashCommand } from "../cli/commands/crash.ts";
import { deployCommand } from "../cli/commands/deploy.ts";
import { eventsCommand } from "../cli/commands/events.ts";
import { groupCommand } from "../cli/commands/group.ts";
import { instanceCommand } from "../cli/commands/instance.ts";
import { joinTokenCommand } from "../cli/commands/join-token.ts";
import { maintenanceCommand } from "../cli/commands/maintenance.ts";
import { networkCommand } from "../cli/commands/network.ts";
import { nodeCommand } from "../cli/commands/node.ts";
import { playerCommand } from "../cli/commands/player.ts";
import { roleCommand } from "../cli/commands/role.ts";
import { statusCommand } from "../cli/commands/status.ts";
import { templateCommand } from "../cli/commands/template.ts";
import { userCommand } from "../cli/commands/user.ts";
import { versionCommand } from "../cli/commands/version.ts";
import { renderHelp } from "../cli/help.ts";
import { plain, runStrict } from "./strict-run.ts";

/**
 * prexorctl, the operator CLI: one command group per module under src/cli/commands, all talking
 * to the controller's REST API through one typed client (src/cli/client).
 */
export const ctlCommand: AnyCommand = branch({
  name: "prexorctl",
  description: "PrexorCloud operator CLI",
  examples: [
    "prexorctl login --server http://127.0.0.1:8080 --username admin",
    "prexorctl status",
    "prexorctl group list -o wide",
  ],
  subCommands: {
    login: loginCommand,
    logout: logoutCommand,
    context: contextCommand,
    status: statusCommand,
    group: groupCommand,
    deploy: deployCommand,
    instance: instanceCommand,
    player: playerCommand,
    template: templateCommand,
    node: nodeCommand,
    "join-token": joinTokenCommand,
    network: networkCommand,
    backup: backupCommand,
    restore: restoreCommand,
    user: userCommand,
    role: roleCommand,
    crash: crashCommand,
    audit: auditCommand,
    events: eventsCommand,
    catalog: catalogCommand,
    maintenance: maintenanceCommand,
    version: versionCommand,
    completion: completionCommand(() => ctlCommand),
  },
});

/**
 * Entry point for `prexorctl …` and `prexor ctl …`: global flags may precede the command words,
 * `--help` prints usage with examples, everything else goes through the strict runner (unknown
 * commands and flags are usage errors, exit 2).
 */
export async function runCtl(argv: readonly string[]): Promise<number> {
  const args = hoistGlobalFlags(ctlCommand, argv);
  const beforeDashes = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  if (beforeDashes.includes("--help") || beforeDashes.includes("-h")) {
    const { cmd, path } = locate(ctlCommand, args);
    console.log(plain(await renderHelp(cmd, path), process.stdout));
    return 0;
  }
  return runStrict(ctlCommand, args);
}
