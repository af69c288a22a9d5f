import { chmodSync, existsSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** What the process creates is private to its user: directories 0700, files 0600. */
export const PRIVATE_UMASK = 0o077;

/** Walks at most this many entries, so an install with huge worlds does not stall the start. */
const MAX_ENTRIES = 200_000;

export interface TightenResult {
  tightened: string[];
  /** entries the walk stopped short of (only with more than MAX_ENTRIES entries) */
  truncated: boolean;
}

/**
 * Removes group and other permission bits from everything under `roots` (symlinks are skipped,
 * never followed): installs made before the umask was set, or files copied in or restored,
 * arrive 0755/0644 while holding the store, its secrets and the audit log. The owner's own bits
 * (including execute on launch scripts) are kept.
 */
export function tightenTree(roots: string[], maxEntries = MAX_ENTRIES): TightenResult {
  const tightened: string[] = [];
  const stack = roots.filter((r) => existsSync(r));
  let seen = 0;
  while (stack.length > 0) {
    const path = stack.pop()!;
    if (++seen > maxEntries) return { tightened, truncated: true };
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat || stat.isSymbolicLink()) continue;
    if ((stat.mode & 0o077) !== 0) {
      chmodSync(path, stat.mode & 0o700);
      tightened.push(path);
    }
    if (stat.isDirectory()) for (const name of readdirSync(path)) stack.push(join(path, name));
  }
  return { tightened, truncated: false };
}

/** Sets one file 0600 when it exists (SQLite creates its -wal/-shm files itself). */
export function makePrivate(file: string): void {
  const stat = lstatSync(file, { throwIfNoEntry: false });
  if (stat && !stat.isSymbolicLink() && (stat.mode & 0o077) !== 0) chmodSync(file, stat.mode & 0o700);
}
