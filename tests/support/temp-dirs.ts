import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Every temporary directory a test makes comes from here, so none outlives the run: the preload
 * (tests/support/cleanup.ts, named in bunfig.toml) removes them all after the last test, whether the
 * tests passed or not. A test that wants its directory gone earlier may still remove it itself.
 */
const created = new Set<string>();

export function tempDir(prefix = "prexor-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.add(dir);
  return dir;
}

/** Removes every directory `tempDir` made (and forgets them); safe to call more than once. */
export function removeTempDirs(): number {
  const count = created.size;
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
  created.clear();
  return count;
}
