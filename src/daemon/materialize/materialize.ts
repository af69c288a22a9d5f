import { randomUUID } from "node:crypto";
import { copyFile, mkdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { MergeFallback, TemplateLayerFiles } from "../../core/templates/index.ts";
import { composeTemplateFiles, isProtectedPath } from "../../core/templates/index.ts";
import type { LayerRef, TemplateCache } from "./template-cache.ts";
import { pathExists, resolveInside, writeFreshTree, writeIntoExistingTree } from "./tree-io.ts";

export interface MaterializeRequest {
  /** Lowest layer first, each pinned to its content hash. All must already be in the cache. */
  readonly layers: readonly LayerRef[];
  readonly instanceDir: string;
  /** Placeholder values (`instanceVariables` from core). */
  readonly variables: Readonly<Record<string, string>>;
  /** Static instances keep their directory; templates are laid over it. */
  readonly staticInstance: boolean;
  /** Static only: existing files at these paths are operator-owned and left alone. */
  readonly protectedPaths: readonly string[];
  /** The runtime jar (from the artifact cache) and its file name inside the instance directory. */
  readonly runtime?: { readonly source: string; readonly fileName: string };
}

export interface MaterializeResult {
  readonly files: number;
  readonly bytes: number;
  readonly skippedProtected: readonly string[];
  readonly fallbacks: readonly MergeFallback[];
  readonly elapsedMs: number;
}

/**
 * Builds an instance directory from its verified layers: reads each layer from the cache (which
 * re-checks its hash), substitutes and merges them (`composeTemplateFiles`), and writes the result.
 * A fresh directory is assembled beside the target and renamed into place, so an instance never
 * starts from half a template and a failed start leaves the previous directory untouched.
 */
export async function materialize(
  cache: TemplateCache,
  request: MaterializeRequest,
): Promise<MaterializeResult> {
  const started = performance.now();
  const layers: TemplateLayerFiles[] = [];
  for (const layer of request.layers) {
    layers.push({ name: layer.name, files: await cache.readLayer(layer) });
  }
  const composed = composeTemplateFiles(layers, request.variables);
  const files = new Map(composed.files);

  const overlay = request.staticInstance && (await pathExists(request.instanceDir));
  const written = overlay ? await overlayExisting(request, files) : await replaceWhole(request, files);
  return { ...written, fallbacks: composed.fallbacks, elapsedMs: performance.now() - started };
}

async function replaceWhole(
  request: MaterializeRequest,
  files: Map<string, Uint8Array>,
): Promise<{ files: number; bytes: number; skippedProtected: string[] }> {
  const parent = dirname(request.instanceDir);
  const name = basename(request.instanceDir);
  await mkdir(parent, { recursive: true });
  const staging = join(parent, `.${name}.tmp-${randomUUID()}`);
  try {
    await mkdir(staging);
    const written = await writeFreshTree(staging, files);
    let bytes = written.bytes;
    if (request.runtime) {
      const jarTarget = resolveInside(staging, request.runtime.fileName);
      await mkdir(dirname(jarTarget), { recursive: true });
      await copyFile(request.runtime.source, jarTarget);
      bytes += Bun.file(request.runtime.source).size;
    }
    await swapInto(staging, request.instanceDir);
    return { files: written.files + (request.runtime ? 1 : 0), bytes, skippedProtected: [] };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Replaces `target` with `staging`; a directory cannot be renamed over a non-empty one, so step aside first. */
async function swapInto(staging: string, target: string): Promise<void> {
  if (!(await pathExists(target))) {
    await rename(staging, target);
    return;
  }
  const previous = `${dirname(target)}/.${basename(target)}.old-${randomUUID()}`;
  await rename(target, previous);
  try {
    await rename(staging, target);
  } catch (err) {
    await rename(previous, target);
    throw err;
  }
  await rm(previous, { recursive: true, force: true });
}

async function overlayExisting(
  request: MaterializeRequest,
  files: Map<string, Uint8Array>,
): Promise<{ files: number; bytes: number; skippedProtected: string[] }> {
  const skippedProtected: string[] = [];
  let count = 0;
  let bytes = 0;
  for (const [path, content] of files) {
    if (
      isProtectedPath(path, request.protectedPaths) &&
      (await pathExists(resolveInside(request.instanceDir, path)))
    ) {
      skippedProtected.push(path);
      continue;
    }
    await writeIntoExistingTree(request.instanceDir, path, content);
    count++;
    bytes += content.byteLength;
  }
  if (request.runtime) {
    await writeIntoExistingTree(request.instanceDir, request.runtime.fileName, {
      copyFrom: request.runtime.source,
    });
    count++;
    bytes += Bun.file(request.runtime.source).size;
  }
  return { files: count, bytes, skippedProtected };
}
