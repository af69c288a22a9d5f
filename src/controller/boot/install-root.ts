import { resolve } from "node:path";
import { tightenTree } from "../../core/fs/private-modes.ts";
import type { Logger } from "../../log/logger.ts";

/**
 * Removes group/other permissions below the directories the product owns under the root, not the
 * root itself: `--dir` may be a directory the operator shares with other things.
 */
export function tightenOwnedDirs(root: string, dataDir: string, log: Logger): void {
  const owned = ["config", dataDir, "templates", "artifacts", "modules", "daemon", "backups", "logs"];
  const modes = tightenTree([...new Set(owned.map((d) => resolve(root, d)))]);
  if (modes.tightened.length > 0 || modes.truncated) {
    log.warn(
      { count: modes.tightened.length, sample: modes.tightened.slice(0, 5), truncated: modes.truncated },
      "removed group/other permissions from files under the install root (state and secrets are owner-only)",
    );
  }
}
