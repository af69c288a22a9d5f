import { randomUUID } from "node:crypto";
import { mkdir, readdir, rename, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { type Clock, systemClock } from "../../core/clock.ts";
import type { TemplateFile } from "../../core/templates/index.ts";
import { hashTemplateFiles } from "../../core/templates/index.ts";
import { LayerIntegrityError, LayerUnavailableError } from "./layer-errors.ts";
import { pathExists, readTree, writeFreshTree } from "./tree-io.ts";

/** Fetches one layer's files at exactly `hash` (from the controller; injected). */
export type LayerFetcher = (layer: LayerRef) => Promise<readonly TemplateFile[]>;

export interface LayerRef {
  readonly name: string;
  /** Content hash (`hashTemplateFiles`); "" is the empty layer. */
  readonly hash: string;
}

export interface CachedLayer {
  readonly hash: string;
  readonly sizeBytes: number;
  readonly lastUsedMs: number;
}

const HASH = /^[0-9a-f]{64}$/;

/**
 * The node's template cache: one directory per layer content hash, `<root>/templates/<hash>/…`.
 * A layer only becomes visible under its hash after its files were checked against that hash, and
 * every read checks again, so neither a bad transfer nor a later edit of the cache can put
 * unexpected bytes into an instance.
 */
export class TemplateCache {
  readonly directory: string;
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(
    cacheRoot: string,
    private readonly clock: Pick<Clock, "now"> = systemClock,
  ) {
    this.directory = join(cacheRoot, "templates");
  }

  layerPath(hash: string): string {
    assertLayerHash(hash);
    return join(this.directory, hash);
  }

  async has(hash: string): Promise<boolean> {
    return hash === "" || (await pathExists(this.layerPath(hash)));
  }

  /**
   * Makes the layer available in the cache, fetching it when absent. Resolves to true when it was
   * fetched. Concurrent calls for one hash share a single fetch.
   */
  ensureLayer(layer: LayerRef, fetch: LayerFetcher): Promise<boolean> {
    if (!isLayerHash(layer.hash)) return Promise.reject(invalidHash(layer.hash));
    const running = this.inFlight.get(layer.hash);
    if (running) return running;
    const work = this.fetchIfMissing(layer, fetch).finally(() => this.inFlight.delete(layer.hash));
    this.inFlight.set(layer.hash, work);
    return work;
  }

  /**
   * The layer's files, re-verified against its hash. A mismatch moves the directory aside (so the
   * next start fetches a clean copy, and the evidence is kept) and throws `LayerIntegrityError`.
   */
  async readLayer(layer: LayerRef): Promise<TemplateFile[]> {
    if (layer.hash === "") return [];
    const dir = this.layerPath(layer.hash);
    let files: TemplateFile[];
    try {
      files = await readTree(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT")
        throw new LayerUnavailableError(layer.name, layer.hash, err);
      await this.quarantine(layer.hash);
      throw new LayerIntegrityError(
        layer.name,
        layer.hash,
        `unreadable (${(err as Error).message})`,
        "cached",
      );
    }
    const actual = hashTemplateFiles(files);
    if (actual !== layer.hash) {
      await this.quarantine(layer.hash);
      throw new LayerIntegrityError(layer.name, layer.hash, actual, "cached");
    }
    // The directory's mtime doubles as "last used" for cache status and eviction.
    const now = new Date();
    await utimes(dir, now, now).catch(() => undefined);
    return files;
  }

  /** What the cache holds, for the controller's cache-status view. */
  async list(): Promise<CachedLayer[]> {
    const names = await readdir(this.directory).catch(() => [] as string[]);
    const layers: CachedLayer[] = [];
    for (const hash of names.filter((name) => HASH.test(name))) {
      const dir = join(this.directory, hash);
      // a layer that cannot be read is left out of the listing; the next use re-fetches it
      const files = await readTree(dir).catch(() => undefined);
      if (files === undefined) continue;
      const info = await stat(dir);
      layers.push({
        hash,
        sizeBytes: files.reduce((sum, file) => sum + file.bytes.byteLength, 0),
        lastUsedMs: info.mtimeMs,
      });
    }
    return layers;
  }

  private async fetchIfMissing(layer: LayerRef, fetch: LayerFetcher): Promise<boolean> {
    if (await this.has(layer.hash)) return false;
    let files: readonly TemplateFile[];
    try {
      files = await fetch(layer);
    } catch (err) {
      throw new LayerUnavailableError(layer.name, layer.hash, err);
    }
    const actual = hashTemplateFiles(files);
    if (actual !== layer.hash) throw new LayerIntegrityError(layer.name, layer.hash, actual, "fetched");

    await mkdir(this.directory, { recursive: true });
    const staging = join(this.directory, `.tmp-${randomUUID()}`);
    try {
      await mkdir(staging);
      await writeFreshTree(
        staging,
        files.map((file) => [file.path, file.bytes] as const),
      );
      await rename(staging, this.layerPath(layer.hash));
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      // Another daemon process sharing the cache may have published the same layer first.
      if (await this.has(layer.hash)) return false;
      throw err;
    }
    return true;
  }

  private async quarantine(hash: string): Promise<void> {
    const aside = join(this.directory, ".quarantine", `${hash}-${this.clock.now()}`);
    await mkdir(join(this.directory, ".quarantine"), { recursive: true });
    // gone already (a concurrent quarantine or removal): nothing left to set aside
    await rename(this.layerPath(hash), aside).catch(() => undefined);
  }
}

/** Layer hashes name cache directories, so anything but a SHA-256 hex digest (or "") is refused. */
export function isLayerHash(hash: string): boolean {
  return hash === "" || HASH.test(hash);
}

function assertLayerHash(hash: string): void {
  if (!isLayerHash(hash)) throw invalidHash(hash);
}

function invalidHash(hash: string): Error {
  return new Error(`invalid template layer hash ${JSON.stringify(hash)}`);
}
