import { lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, posix, resolve, sep } from "node:path";
import { CliError, EXIT } from "./errors.ts";

export interface PackResult {
  bytes: Uint8Array;
  fileCount: number;
  rawBytes: number;
  skipped: string[];
}

/**
 * A directory as tar.gz. Only regular files go in: a symlink could point anywhere on this
 * machine, and the controller refuses archives with links anyway, so they are skipped by name.
 */
export async function packDirectory(dir: string): Promise<PackResult> {
  const root = resolve(dir);
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(root);
  } catch {
    throw new CliError(`${dir}: no such directory`, EXIT.USAGE);
  }
  if (!stat.isDirectory()) throw new CliError(`${dir}: not a directory`, EXIT.USAGE);
  const files: Record<string, Uint8Array> = {};
  const skipped: string[] = [];
  let rawBytes = 0;
  let fileCount = 0;
  const walk = async (rel: string) => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const bytes = await Bun.file(join(root, path)).bytes();
        files[path] = bytes;
        rawBytes += bytes.length;
        fileCount++;
      } else skipped.push(path);
    }
  };
  await walk("");
  if (fileCount === 0) throw new CliError(`${dir}: no files to push`, EXIT.USAGE);
  const archive = new Bun.Archive(files, { compress: "gzip" });
  return { bytes: new Uint8Array(await (await archive.blob()).arrayBuffer()), fileCount, rawBytes, skipped };
}

/** The entry's path inside `dir`, or undefined for anything that would land outside it. */
export function safeEntryPath(name: string): string | undefined {
  if (name.startsWith("/") || name.includes("\\") || name.includes("\0")) return undefined;
  const normal = posix.normalize(name);
  if (normal === "." || normal.startsWith("../") || normal === ".." || normal.split("/").includes(".."))
    return undefined;
  return normal.replace(/^\.\//, "").replace(/\/$/, "");
}

/** Unpacks a tar.gz into `dir`, refusing (before writing anything) entries that escape it. */
export async function unpackArchive(bytes: Uint8Array, dir: string): Promise<number> {
  const entries = await new Bun.Archive(bytes).files();
  const plan: Array<[string, Blob]> = [];
  for (const [name, file] of entries) {
    const rel = safeEntryPath(name);
    if (rel === undefined)
      throw new CliError(`the archive has an unsafe path "${name}"; nothing was written`);
    if (rel !== "") plan.push([rel, file]);
  }
  const root = resolve(dir);
  for (const [rel, file] of plan) {
    const target = join(root, ...rel.split("/"));
    if (!target.startsWith(root + sep)) throw new CliError(`unsafe path "${rel}"`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, new Uint8Array(await file.arrayBuffer()));
  }
  return plan.length;
}
