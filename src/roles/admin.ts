import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { defineCommand } from "citty";
import { loadControllerConfig } from "../config/controller-config.ts";
import { requestUnlock, unlockInbox } from "../controller/auth/unlock-inbox.ts";
import { systemClock } from "../core/clock.ts";
import { report } from "./strict-run.ts";

/** How long `unlock` waits for the running controller to apply the request. */
const APPLY_TIMEOUT_MS = 10_000;

const unlockCommand = defineCommand({
  meta: {
    name: "unlock",
    description: "Lift a user's account-wide login lock, run on the controller host (needs no REST)",
  },
  args: {
    user: { type: "positional", description: "username", required: true },
    dir: { type: "string", description: "install root (default: /opt/prexorcloud/controller)" },
    config: { type: "string", description: "controller.yml (default: <dir>/config/controller.yml)" },
  },
  async run({ args }) {
    try {
      const root = resolve(args.dir ?? "/opt/prexorcloud/controller");
      const file = resolve(args.config ?? `${root}/config/controller.yml`);
      const dataDir = existsSync(file) ? loadControllerConfig(file).runtime.dataDir : "data";
      const request = requestUnlock(unlockInbox(root, dataDir), String(args.user).toLowerCase());
      const deadline = systemClock.now() + APPLY_TIMEOUT_MS;
      while (existsSync(request) && systemClock.now() < deadline) await systemClock.sleep(100);
      if (existsSync(request)) {
        console.log(
          `queued: no running controller under ${root} applied it yet; it applies when the controller starts`,
        );
      } else {
        console.log(`unlocked "${args.user}": the account-wide login lock is lifted`);
      }
      return 0;
    } catch (err) {
      return report(err);
    }
  },
});

export const adminCommand = defineCommand({
  meta: { name: "admin", description: "Local administration on the controller host" },
  subCommands: { unlock: unlockCommand },
});
