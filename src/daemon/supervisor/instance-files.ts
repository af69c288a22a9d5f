import { lstat, open, readdir, realpath } from "node:fs/promises";
import { join, posix, sep } from "node:path";
import { FileAccessStatus } from "../../wire/index.ts";

/** Defaults and caps of the file access frames (daemon.proto: zero means the default). */
export const WALK_MAX_ENTRIES = 2000;
export const WALK_MAX_DEPTH = 8;
export const READ_DEFAULT_BYTES = 64 * 1024;
export const READ_MAX_BYTES = 1024 * 1024;

export interface WalkEntry {
  path: string;
  sizeBytes: number;
  isDir: boolean;
  modifiedAtMs: number;
}

/**
 * The instance directory's tree, breadth first, bounded by entry count and depth. Symlinks are
 * listed as what they are (never followed), so a link cannot lead the walk outside the directory.
 */
export async function walkInstanceDir(
  root: string,
  limits: { maxEntries?: number; maxDepth?: number } = {},
): Promise<{ entries: WalkEntry[]; truncated: boolean; status: FileAccessStatus }> {
  const maxEntries = Math.min(limits.maxEntries || WALK_MAX_ENTRIES, WALK_MAX_ENTRIES);
  const maxDepth = Math.min(limits.maxDepth || WALK_MAX_DEPTH, WALK_MAX_DEPTH);
  const entries: WalkEntry[] = [];
  let queue: Array<{ rel: string; depth: number }> = [{ rel: "", depth: 0 }];
  try {
    await readdir(root);
  } catch {
    // the answer names the failure (status); the controller shows it
    return { entries, truncated: false, status: FileAccessStatus.DIR_UNREADABLE };
  }
  while (queue.length > 0) {
    const next: typeof queue = [];
    for (const dir of queue) {
      let names: string[];
      try {
        names = (await readdir(join(root, dir.rel))).sort();
      } catch {
        // a directory that vanished or cannot be read mid-walk is left out; the walk goes on
        continue;
      }
      for (const name of names) {
        const rel = dir.rel ? `${dir.rel}/${name}` : name;
        // gone between readdir and lstat: left out
        const stat = await lstat(join(root, rel)).catch(() => null);
        if (stat === null) continue;
        if (entries.length >= maxEntries) return { entries, truncated: true, status: FileAccessStatus.OK };
        entries.push({
          path: rel,
          sizeBytes: stat.isFile() ? stat.size : 0,
          isDir: stat.isDirectory(),
          modifiedAtMs: Math.floor(stat.mtimeMs),
        });
        if (stat.isDirectory() && dir.depth + 1 < maxDepth) next.push({ rel, depth: dir.depth + 1 });
      }
    }
    queue = next;
  }
  return { entries, truncated: false, status: FileAccessStatus.OK };
}

/** `path` inside `root`, or undefined when it names anything outside (absolute, `..`, NUL). */
function inside(root: string, path: string): string | undefined {
  if (path === "" || path.startsWith("/") || path.includes("\\") || path.includes("\0")) return undefined;
  const normal = posix.normalize(path);
  if (normal === ".." || normal.startsWith("../") || normal.split("/").includes("..")) return undefined;
  return join(root, normal);
}

/** One file of the instance directory, the first (or with `tail` the last) `maxBytes` of it. */
export async function readInstanceFile(
  root: string,
  path: string,
  options: { maxBytes?: number; tail?: boolean } = {},
): Promise<{ content: Uint8Array; totalSizeBytes: number; truncated: boolean; status: FileAccessStatus }> {
  const none = (status: FileAccessStatus) => ({
    content: new Uint8Array(),
    totalSizeBytes: 0,
    truncated: false,
    status,
  });
  const target = inside(root, path);
  if (target === undefined) return none(FileAccessStatus.PATH_OUTSIDE_INSTANCE);
  // missing is an answer (FILE_NOT_FOUND), not a failure
  const stat = await lstat(target).catch(() => null);
  if (stat === null) return none(FileAccessStatus.FILE_NOT_FOUND);
  if (!stat.isFile()) return none(FileAccessStatus.NOT_REGULAR_FILE);
  // A parent directory could be a link: the resolved file must still be under the resolved root.
  const [realRoot, realTarget] = await Promise.all([realpath(root), realpath(target)]).catch(() => ["", ""]);
  if (!realTarget.startsWith(realRoot + sep)) return none(FileAccessStatus.PATH_OUTSIDE_INSTANCE);
  const cap = Math.min(options.maxBytes || READ_DEFAULT_BYTES, READ_MAX_BYTES);
  const length = Math.min(cap, stat.size);
  try {
    const handle = await open(realTarget, "r");
    try {
      const buffer = new Uint8Array(length);
      const position = options.tail ? stat.size - length : 0;
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      return {
        content: buffer.subarray(0, bytesRead),
        totalSizeBytes: stat.size,
        truncated: stat.size > length,
        status: FileAccessStatus.OK,
      };
    } finally {
      await handle.close();
    }
  } catch {
    // the answer names the failure (status); the controller shows it
    return none(FileAccessStatus.FILE_UNREADABLE);
  }
}
