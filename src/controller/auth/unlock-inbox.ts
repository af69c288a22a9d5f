import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { LoginLockout } from "./login-lockout.ts";

/**
 * `prexor admin unlock <user>` must work when REST does not (the operator is the one locked out),
 * and in the development profile the locks live in the controller's memory. So the command leaves
 * a request in a directory only the controller's user can write (0700 under the data dir), and the
 * controller on that host applies it within a second. Filesystem access to the install is the
 * authority: whoever can write there can already read the store.
 */
export function unlockInbox(root: string, dataDir: string): string {
  return join(resolve(root, dataDir), "admin-requests");
}

const USERNAME = /^[a-z0-9._-]{1,64}$/;

export function requestUnlock(inbox: string, username: string): string {
  if (!USERNAME.test(username))
    throw new AppError("INVALID_ARGUMENT", `"${username}" is not a valid username`);
  mkdirSync(inbox, { recursive: true, mode: 0o700 });
  const file = join(inbox, `unlock.${username}`);
  writeFileSync(file, `${new Date().toISOString()}\n`, { mode: 0o600 });
  return file;
}

/** Applies and removes every pending unlock request; returns the usernames unlocked. */
export async function drainUnlockInbox(inbox: string, lockout: LoginLockout, log: Logger): Promise<string[]> {
  if (!existsSync(inbox)) return [];
  const done: string[] = [];
  for (const name of readdirSync(inbox)) {
    const username = name.startsWith("unlock.") ? name.slice("unlock.".length) : "";
    if (!USERNAME.test(username)) continue;
    await lockout.unlock(username);
    rmSync(join(inbox, name), { force: true });
    log.warn({ username }, "login lock lifted by `prexor admin unlock` on this host");
    done.push(username);
  }
  return done;
}

/** Polls the inbox every second until stopped. */
export function startUnlockInbox(inbox: string, lockout: LoginLockout, log: Logger): () => void {
  let busy = false;
  const tick = () => {
    if (busy) return;
    busy = true;
    drainUnlockInbox(inbox, lockout, log)
      .catch((err) => log.error({ err }, "could not apply an unlock request; will retry"))
      .finally(() => {
        busy = false;
      });
  };
  tick();
  const timer = setInterval(tick, 1000);
  timer.unref?.();
  return () => clearInterval(timer);
}
