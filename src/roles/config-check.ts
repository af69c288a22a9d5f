import { basename, resolve } from "node:path";
import { defineCommand } from "citty";
import { loadControllerConfig } from "../config/controller-config.ts";
import { loadDaemonConfig } from "../config/daemon-config.ts";
import { report, UsageError } from "./strict-run.ts";

const checkCommand = defineCommand({
  meta: { name: "check", description: "Validate controller.yml or daemon.yml without starting anything" },
  args: {
    file: { type: "positional", description: "config file", required: true },
    role: { type: "string", description: "controller | daemon (default: from the file name)" },
  },
  async run({ args }) {
    const file = resolve(String(args.file));
    const role = args.role ?? (basename(file).includes("daemon") ? "daemon" : "controller");
    if (role !== "controller" && role !== "daemon")
      throw new UsageError(`--role must be controller or daemon, got "${role}"`);
    try {
      if (role === "daemon") {
        const config = loadDaemonConfig(file);
        console.log(
          `${file}: OK (daemon ${config.nodeId} → ${config.controller.host}:${config.controller.grpcPort})`,
        );
      } else {
        const config = loadControllerConfig(file);
        console.log(`${file}: OK (controller, profile ${config.runtime.profile})`);
      }
      return 0;
    } catch (err) {
      return report(err);
    }
  },
});

export const configCommand = defineCommand({
  meta: { name: "config", description: "Configuration tools" },
  subCommands: { check: checkCommand },
});
