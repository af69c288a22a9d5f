import { basename, resolve } from "node:path";
import { defineCommand } from "citty";
import { type ConfigRole, renderReferenceMarkdown, renderReferenceText } from "../config/config-reference.ts";
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

const referenceCommand = defineCommand({
  meta: {
    name: "reference",
    description: "Print every controller.yml and daemon.yml key with its type, default and description",
  },
  args: {
    role: { type: "string", description: "controller | daemon (default: both)" },
    format: { type: "string", description: "text | markdown (default: text)" },
  },
  run({ args }) {
    const roles: ConfigRole[] =
      args.role === undefined ? ["controller", "daemon"] : [args.role as ConfigRole];
    if (!roles.every((r) => r === "controller" || r === "daemon"))
      throw new UsageError(`--role must be controller or daemon, got "${args.role}"`);
    const format = args.format ?? "text";
    if (format !== "text" && format !== "markdown")
      throw new UsageError(`--format must be text or markdown, got "${format}"`);
    process.stdout.write(
      format === "markdown" ? `${renderReferenceMarkdown(roles)}\n` : renderReferenceText(roles),
    );
    return 0;
  },
});

export const configCommand = defineCommand({
  meta: { name: "config", description: "Configuration tools" },
  subCommands: { check: checkCommand, reference: referenceCommand },
});
