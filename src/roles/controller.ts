import { resolve } from "node:path";
import { defineCommand } from "citty";
import { loadControllerConfig } from "../config/controller-config.ts";
import type { RunningController } from "../controller/boot.ts";
import { createLogger } from "../log/logger.ts";
import { bindRestEarly } from "./rest-early.ts";
import { untilSignal } from "./signals.ts";
import { report } from "./strict-run.ts";

export const controllerCommand = defineCommand({
  meta: { name: "controller", description: "Run a controller (REST :8080, daemon gRPC :9090)" },
  args: {
    root: { type: "string", description: "install root (config/, data/ …)", default: "." },
    config: { type: "string", description: "config file (default <root>/config/controller.yml)" },
  },
  async run({ args }) {
    const root = resolve(args.root);
    const file = args.config ? resolve(args.config) : resolve(root, "config/controller.yml");
    const config = loadControllerConfig(file, { allowMissing: !args.config });
    const log = createLogger({
      level: config.logging.level,
      format: config.logging.format,
      name: "controller",
    });
    // Listen for signals before starting: a SIGTERM during start-up must still shut down cleanly.
    const stopSignal = untilSignal();
    let running: RunningController;
    try {
      const listener = bindRestEarly(root, config);
      // Loaded after the port is bound: the controller's stack is most of a cold start.
      const { startController } = await import("../controller/boot.ts");
      running = await startController({ root, config, log, listener });
    } catch (err) {
      log.error({ err }, "controller failed to start");
      return report(err);
    }
    const signal = await stopSignal;
    log.info({ signal }, "shutting down");
    await running.stop();
    return 0;
  },
});
