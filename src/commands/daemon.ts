import { resolve } from "node:path";
import { defineCommand } from "citty";
import { loadDaemonConfig } from "../config/daemon-config.ts";
import { report } from "./strict-run.ts";

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
  },
  async run({ args }) {
    const root = resolve(args.root);
    const file = args.config ? resolve(args.config) : resolve(root, "config/daemon.yml");
    try {
      loadDaemonConfig(file, { allowMissing: !args.config });
    } catch (err) {
      return report(err);
    }
    // Enrollment and the gRPC link are the next piece of work; refuse plainly rather than pretend.
    console.error("error: the daemon link (enrollment, mTLS stream) is not part of this build yet");
    return 1;
  },
});
