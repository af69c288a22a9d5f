import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { FILES_DIR } from "./bundle-format.ts";

/** copies in flight at once: enough to keep the disk busy, few enough for the libuv pool (4) */
export const STAGING_CONCURRENCY = 4;

/**
 * Copies the bundle's filesystem entries into a staging directory (nothing live is touched), a
 * few at a time off the event loop, so a restore can stage files while the store is loading.
 */
export async function stageFiles(options: {
  dir: string;
  staging: string;
  files: readonly string[];
  sizes: ReadonlyMap<string, number>;
  onBytes?: (bytes: number) => void;
}): Promise<void> {
  let next = 0;
  const made = new Set<string>();
  const worker = async () => {
    while (next < options.files.length) {
      const rel = options.files[next++]!;
      const target = join(options.staging, rel.slice(FILES_DIR.length + 1));
      const parent = dirname(target);
      if (!made.has(parent)) {
        await mkdir(parent, { recursive: true, mode: 0o700 });
        made.add(parent);
      }
      await copyFile(join(options.dir, rel), target);
      options.onBytes?.(options.sizes.get(rel) ?? 0);
    }
  };
  // every worker settles before this returns, so a caller removing the staging tree races no copy
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(STAGING_CONCURRENCY, options.files.length) }, worker),
  );
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}
