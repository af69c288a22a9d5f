import { defineCommand } from "citty";
import { versionInfo } from "../version.ts";

/**
 * prexorctl, the operator CLI. It grows one command group at a time; each talks to the REST API
 * of a controller (default http://127.0.0.1:8080, or PREXOR_CONTROLLER).
 */
const ctlVersion = defineCommand({
  meta: { name: "version", description: "Print the CLI and controller versions" },
  args: {
    server: {
      type: "string",
      description: "controller URL",
      default: process.env.PREXOR_CONTROLLER ?? "http://127.0.0.1:8080",
    },
    json: { type: "boolean", description: "print JSON" },
  },
  async run({ args }) {
    const cli = versionInfo();
    let controller: unknown = null;
    try {
      const res = await fetch(new URL("/api/v1/system/version", args.server), {
        signal: AbortSignal.timeout(3000),
      });
      controller = res.ok ? await res.json() : { error: `HTTP ${res.status}` };
    } catch (err) {
      controller = { error: `unreachable: ${(err as Error).message}` };
    }
    if (args.json) console.log(JSON.stringify({ cli, controller }));
    else {
      console.log(`prexorctl ${cli.version} (${cli.gitCommit})`);
      const c = controller as { version?: string; error?: string };
      console.log(`controller ${args.server}: ${c.version ?? c.error}`);
    }
    return 0;
  },
});

export const ctlCommand = defineCommand({
  meta: { name: "prexorctl", description: "PrexorCloud operator CLI" },
  subCommands: { version: ctlVersion },
});
