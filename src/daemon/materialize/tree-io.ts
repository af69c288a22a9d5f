import { copyFile, lstat, mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { TemplateFile } from "../../core/templates/index.ts";
import { normalizeTemplatePath } from "../../core/templates/index.ts";
import { mapLimit } from "./map-limit.ts";

const IO_PARALLELISM = 32;

/**
 * Every regular file below `root` as template files (`/`-separated relative paths). A symlink or
 * any other special file is refused rather than followed: nothing we write ever creates one, so its
 * presence means someone tampered with the tree, and following it could read outside `root`.
 */
export async function readTree(root: string): Promise<TemplateFile[]> {
  const paths: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(join(root, relative), { withFileTypes: true });
    for (const entry of entries) {
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) paths.push(path);
      else throw new Error(`${join(root, path)} is not a regular file or directory`);
    }
  };
  await walk("");
  return mapLimit(paths, IO_PARALLELISM, async (path) => ({
    path,
    bytes: new Uint8Array(await readFile(join(root, path))),
  }));
}

/** Joins a template path onto `root` after normalizing it, so no path can leave `root`. */
export function resolveInside(root: string, templatePath: string): string {
  return join(root, ...normalizeTemplatePath(templatePath).split("/"));
}

/**
 * Writes files into a directory this process just created (so no symlink can be planted in it):
 * parent directories first, then the files in parallel.
 */
export async function writeFreshTree(
  root: string,
  files: Iterable<readonly [string, Uint8Array]>,
): Promise<{ files: number; bytes: number }> {
  const entries = [...files].map(([path, bytes]) => [resolveInside(root, path), bytes] as const);
  const dirs = [...new Set(entries.map(([target]) => dirname(target)))].sort();
  for (const dir of dirs) await mkdir(dir, { recursive: true });
  await mapLimit(entries, IO_PARALLELISM, ([target, bytes]) => writeFile(target, bytes));
  return { files: entries.length, bytes: entries.reduce((sum, [, bytes]) => sum + bytes.byteLength, 0) };
}

/** File content to write: bytes in memory, or a file to copy (large runtime jars). */
export type FileContent = Uint8Array | { readonly copyFrom: string };

/**
 * Writes one file into a directory an operator may have touched (a static instance): refuses when
 * any directory on the way is a symlink, and replaces the file by rename so a reader never sees it
 * half-written and a symlink at the target is replaced rather than written through.
 */
export async function writeIntoExistingTree(
  root: string,
  templatePath: string,
  content: FileContent,
): Promise<void> {
  const target = resolveInside(root, templatePath);
  const segments = normalizeTemplatePath(templatePath).split("/").slice(0, -1);
  let current = root;
  for (const segment of segments) {
    current = join(current, segment);
    const info = await lstat(current).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    if (info === undefined) {
      await mkdir(current);
    } else if (info.isSymbolicLink() || !info.isDirectory()) {
      throw new Error(`refusing to write ${templatePath}: ${current} is not a plain directory`);
    }
  }
  const temporary = `${target}.prexor-tmp-${process.pid}`;
  if (content instanceof Uint8Array) await writeFile(temporary, content);
  else await copyFile(content.copyFrom, temporary);
  await rename(temporary, target);
}

/** True when `path` exists (without following a final symlink). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}
