import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { defineCommand } from "citty";
import type { ControllerConfig } from "../config/controller-config.ts";
import type { RunningController } from "../controller/boot.ts";
import type { EarlyListener } from "../controller/http/early-listener.ts";
import type { RunningDaemon } from "../daemon/boot.ts";
import { loadControllerStack, openRest, untouchedListenDefaults } from "./rest-early.ts";
import { untilSignal } from "./signals.ts";
import { report } from "./strict-run.ts";

/**
 * A whole single-host cloud in one process for a first try: the development profile on the
 * embedded store with in-memory coordination, REST and gRPC on loopback unless told otherwise, and
 * a local daemon (state under <dir>/daemon/) enrolled and connected like any other.
 */
export const upCommand = defineCommand({
  meta: {
    name: "up",
    description: "Run a single-host cloud in one process (embedded store, in-memory coordination)",
  },
  args: {
    dir: { type: "string", description: "where state lives", default: "prexorcloud" },
    host: { type: "string", description: "REST bind address", default: "127.0.0.1" },
    port: { type: "string", description: "REST port", default: "8080" },
    "grpc-port": { type: "string", description: "daemon gRPC port", default: "9090" },
  },
  async run({ args }) {
    const root = resolve(args.dir);
    const file = resolve(root, "config/controller.yml");
    const port = Number(args.port);
    const grpcPort = Number(args["grpc-port"]);
    if (
      !Number.isInteger(port) ||
      port < 0 ||
      port > 65535 ||
      !Number.isInteger(grpcPort) ||
      grpcPort < 0 ||
      grpcPort > 65535
    ) {
      console.error("error: --port and --grpc-port take a number from 0 to 65535");
      return 2;
    }
    // `prexor up` decides these whatever controller.yml says.
    const upConfig = ({ loadControllerConfig }: typeof import("../config/controller-config.ts")) => {
      const config = loadControllerConfig(file, { allowMissing: true });
      config.runtime.profile = "development";
      config.database.driver = "embedded";
      config.redis = undefined;
      config.http.host = args.host;
      config.http.port = port;
      config.grpc.host = args.host;
      config.grpc.port = grpcPort;
      return config;
    };
    const untouched = untouchedListenDefaults(file);
    // Listen for signals before starting: a SIGTERM during start-up must still shut down cleanly.
    const stopSignal = untilSignal();
    let listener: EarlyListener;
    let config: ControllerConfig;
    try {
      ({ listener, config } = await openRest(
        root,
        untouched && { ...untouched, host: args.host, port, profile: "development" },
        upConfig,
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
      name: "prexor-up",
    });
    let running: RunningController;
    try {
      running = await startController({ root, config, log, listener, holdReadiness: "local daemon" });
    } catch (err) {
      return report(err);
    }
    const { startLocalDaemon } = await import("./local-daemon.ts");
    const { EnrollmentError } = await import("../daemon/enroll.ts");
    let daemon: RunningDaemon;
    try {
      daemon = await startLocalDaemon(running, {
        dir: root,
        host: args.host,
        log: createLogger({
          level: config.logging.level,
          format: config.logging.format,
          name: "prexor-up-daemon",
        }),
      });
    } catch (err) {
      await running.stop();
      if (err instanceof EnrollmentError) {
        console.error(`error: the local daemon could not enrol: ${err.message}`);
        return 1;
      }
      return report(err);
    }
    running.markReady();
    const base = `http://${args.host.includes(":") ? `[${args.host}]` : args.host}:${running.httpPort}`;
    const lines = [
      "",
      `PrexorCloud is up: ${base}  (state in ${root}${existsSync(file) ? `, config ${file}` : ""})`,
      `  health:   curl -s ${base}/api/v1/system/health`,
      `  daemon:   node "${daemon.nodeId}" (state in ${resolve(root, "daemon")})`,
    ];
    if (running.bootstrap.password) {
      lines.push(
        `  admin password (shown once, also in ${running.bootstrap.passwordFile}): ${running.bootstrap.password}`,
      );
    }
    lines.push("  stop:     Ctrl-C", "");
    console.log(lines.join("\n"));
    // A ShutdownNode for the local node stops its daemon only; the controller keeps serving.
    void daemon.shutdownRequested.then((reason) => {
      log.info({ nodeId: daemon.nodeId, reason }, "the local daemon was asked to shut down");
      return daemon.stop();
    });
    const signal = await stopSignal;
    log.info({ signal }, "shutting down");
    await daemon.stop();
    await running.stop();
    return 0;
  },
});
