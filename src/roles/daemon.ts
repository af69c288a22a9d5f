import { resolve } from "node:path";
import { defineCommand } from "citty";
import { loadDaemonConfig } from "../config/daemon-config.ts";
import { isNodeId } from "../core/names.ts";
import { type RunningDaemon, startDaemon } from "../daemon/boot.ts";
import { EnrollmentError } from "../daemon/enroll.ts";
import { createLogger } from "../log/logger.ts";
import { untilSignal } from "./signals.ts";
import { report, UsageError } from "./strict-run.ts";

const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

export const daemonCommand = defineCommand({
  meta: {
    name: "daemon",
    description: "Run the host daemon (enrolls with a join token, then mTLS gRPC to the controller)",
  },
  args: {
    root: { type: "string", description: "install root", default: "." },
    config: { type: "string", description: "config file (default <root>/config/daemon.yml)" },
    controller: { type: "string", description: "controller gRPC address HOST:PORT" },
    "join-token": { type: "string", description: "one-time join token (pxr_…) for the first start" },
    "node-id": { type: "string", description: "node id (default: nodeId from daemon.yml)" },
  },
  async run({ args }) {
    const root = resolve(args.root);
    const file = args.config ? resolve(args.config) : resolve(root, "config/daemon.yml");
    if (args.controller !== undefined) {
      const match = ADDRESS.exec(args.controller);
      if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
        throw new UsageError(`--controller expects HOST:PORT, got "${args.controller}"`);
      }
    }
    if (args["node-id"] !== undefined && !isNodeId(args["node-id"])) {
      throw new UsageError(`--node-id expects lowercase letters, digits and '-', got "${args["node-id"]}"`);
    }
    let config: ReturnType<typeof loadDaemonConfig>;
    try {
      config = loadDaemonConfig(file, { allowMissing: !args.config });
    } catch (err) {
      return report(err);
    }
    if (args["node-id"] !== undefined) config.nodeId = args["node-id"];
    const log = createLogger({ level: config.logging.level, format: config.logging.format, name: "daemon" });
    // Listen for signals before starting: a SIGTERM during enrolment must still shut down cleanly.
    const stopSignal = untilSignal();
    let running: RunningDaemon;
    try {
      running = await startDaemon({
        root,
        config,
        log,
        controllerAddress: args.controller,
        joinToken: args["join-token"],
      });
    } catch (err) {
      if (err instanceof EnrollmentError) {
        console.error(`error: ${err.message}`);
        return 1;
      }
      return report(err);
    }
    // The controller's ShutdownNode ends the process like a signal: instances stop gracefully first.
    const cause = await Promise.race([
      stopSignal.then((signal) => ({ signal })),
      running.shutdownRequested.then((reason) => ({ controller: reason })),
    ]);
    log.info(cause, "shutting down");
    // ShutdownNode means the node goes away: stop its servers. A signal is a restart or an upgrade
    // (systemd, an operator): the servers keep running unless daemon.yml says otherwise.
    await running.stop({
      leaveWorkloads: "signal" in cause && !config.instances.stopOnDaemonExit,
    });
    return 0;
  },
});
