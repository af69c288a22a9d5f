import { lstat, readFile } from "node:fs/promises";
import type { PlanConfigPatch } from "../../core/plan/index.ts";
import { applyConfigPatches } from "../../core/templates/config-patch.ts";
import { resolveInside, writeIntoExistingTree } from "./tree-io.ts";

/**
 * Applies a plan's config patches to the materialized instance directory, file by file in the
 * order the plan lists them: each file is read once (empty when absent, so a patch can create it),
 * patched in memory and written back atomically. A symlink or a non-file at a patched path is
 * refused, so a patch can never write outside the instance directory.
 */
export async function applyPlanConfigPatches(
  instanceDir: string,
  patches: readonly PlanConfigPatch[],
  variables: Readonly<Record<string, string>>,
): Promise<number> {
  const byFile = new Map<string, PlanConfigPatch[]>();
  for (const patch of patches) {
    const list = byFile.get(patch.file) ?? [];
    list.push(patch);
    byFile.set(patch.file, list);
  }
  for (const [file, filePatches] of byFile) {
    const path = resolveInside(instanceDir, file);
    const before = await readPlainFile(path, file);
    const after = applyConfigPatches(file, before, filePatches, variables);
    if (after !== before) await writeIntoExistingTree(instanceDir, file, new TextEncoder().encode(after));
  }
  return byFile.size;
}

async function readPlainFile(path: string, name: string): Promise<string> {
  const info = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (info === undefined) return "";
  if (!info.isFile()) throw new Error(`refusing to patch ${name}: not a regular file`);
  return readFile(path, "utf8");
}
