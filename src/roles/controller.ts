import { resolve } from "node:path";
import { defineCommand } from "citty";
import type { ControllerConfig } from "../config/controller-config.ts";
import type { RunningController } from "../controller/boot.ts";
import type { EarlyListener } from "../controller/http/early-listener.ts";
import { loadControllerStack, openRest, untouchedListenDefaults } from "./rest-early.ts";
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
    // Listen for signals before starting: a SIGTERM during start-up must still shut down cleanly.
    const stopSignal = untilSignal();
    let listener: EarlyListener;
    let config: ControllerConfig;
    try {
      // With --config the file must exist: the whole load (and its error) comes before the port.
      ({ listener, config } = await openRest(
        root,
        args.config ? undefined : untouchedListenDefaults(file),
        ({ loadControllerConfig }) => loadControllerConfig(file, { allowMissing: !args.config }),
      ));
    } catch (err) {
      return report(err);
    }
    // Loaded once the port is bound, in turns: the logger and the controller's stack are most of a cold start.
    const { startController } = await loadControllerStack();
    const { createLogger } = await import("../log/logger.ts");
    const log = createLogger({
      level: config.logging.level,
      format: config.logging.format,
      name: "controller",
    });
    let running: RunningController;
    try {
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
