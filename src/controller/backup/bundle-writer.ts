import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Coordination } from "../../coord/port.ts";
import { systemClock } from "../../core/clock.ts";
import type { Doc, DurableStore } from "../../store/port.ts";
import { VERSION } from "../../version.ts";
import {
  type BackupScope,
  BUNDLE_FORMAT,
  bundleIdAt,
  COORDINATION_FILE,
  collectionFile,
  FILES_DIR,
  INTERNALS_FILE,
  MANIFEST_FILE,
  type Manifest,
  type ManifestCollection,
  type ManifestFile,
  PARTIAL_SUFFIX,
  STORE_DIR,
  UNBACKED_COLLECTIONS,
} from "./bundle-format.ts";
import type { HoldGate } from "./cluster-hold.ts";
import { listRootFiles, REDACTED_CONFIG, redactedConfig } from "./filesystem-state.ts";
import { GarbageReclaimer } from "./garbage-reclaimer.ts";
import { copyBuffer, HashingWriter, syncFiles } from "./hashing-writer.ts";

export interface BackupProgress {
  phase: "store" | "coordination" | "filesystem" | "done";
  documents: number;
  bytes: number;
}

export interface CreateBundleOptions {
  /** the store itself, not the gated one the services write through */
  store: DurableStore;
  coord: Coordination | null;
  /** install root (templates/, artifacts/, config/) */
  root: string;
  backupDir: string;
  scope: BackupScope;
  createdBy: string;
  /** held while the durable store is read; null when nothing else writes (offline) */
  hold: HoldGate | null;
  holdDrainMs?: number;
  scanBatch?: number;
  onProgress?: (p: BackupProgress) => void;
  now?: () => number;
}

/** Coordination state in a bundle: the port's export plus the scaling-cooldown mirrors. */
export interface CoordinationFile {
  state: Awaited<ReturnType<Coordination["exportState"]>>;
  cooldowns: Array<{ scope: string; holder: string; ttlMs: number }>;
}

function freeId(backupDir: string, base: string): string {
  for (let n = 0; n < 1000; n++) {
    const id = n === 0 ? base : `${base}-${n}`;
    if (!existsSync(join(backupDir, id)) && !existsSync(join(backupDir, id + PARTIAL_SUFFIX))) return id;
  }
  throw new Error(`no free bundle id for ${base}`);
}

/**
 * Writes one bundle. The store is streamed collection by collection in keyset pages (one page in
 * memory at a time) while the write hold is on; coordination and files follow after the hold is
 * lifted (templates are content-addressed and never change in place). Everything goes into
 * `<id>.partial/`, which becomes `<id>/` only after manifest.json is on disk; on any error the
 * partial directory is removed.
 */
export async function createBundle(options: CreateBundleOptions): Promise<Manifest> {
  const now = options.now ?? systemClock.now;
  mkdirSync(options.backupDir, { recursive: true, mode: 0o700 });
  const id = freeId(options.backupDir, bundleIdAt(now()));
  const partial = join(options.backupDir, id + PARTIAL_SUFFIX);
  mkdirSync(join(partial, STORE_DIR), { recursive: true, mode: 0o700 });
  const files: ManifestFile[] = [];
  const collections: ManifestCollection[] = [];
  const progress: BackupProgress = { phase: "store", documents: 0, bytes: 0 };
  const report = () => options.onProgress?.({ ...progress });
  const writeWhole = (rel: string, text: string) => {
    const w = new HashingWriter(join(partial, rel));
    w.write(text);
    const done = w.finish();
    files.push({ path: rel, ...done });
    progress.bytes += done.bytes;
  };
  try {
    const release = options.hold ? await options.hold.hold(options.holdDrainMs) : () => {};
    const cutAt = now();
    let heldMs = 0;
    const reclaim = new GarbageReclaimer();
    try {
      for (const name of await options.store.listCollections()) {
        if (UNBACKED_COLLECTIONS.has(name)) continue;
        const rel = collectionFile(name);
        const writer = new HashingWriter(join(partial, rel));
        let documents = 0;
        try {
          for await (const page of options.store.collection<Doc>(name).scan(options.scanBatch ?? 1000)) {
            reclaim.batch();
            let chunk = "";
            for (const doc of page) chunk += `${JSON.stringify(doc)}\n`;
            writer.write(chunk);
            documents += page.length;
            progress.documents += page.length;
            progress.bytes = progress.bytes + Buffer.byteLength(chunk);
            report();
          }
        } catch (err) {
          writer.abort();
          throw err;
        }
        const done = writer.finish();
        collections.push({ name, file: rel, documents, ...done });
        files.push({ path: rel, ...done });
      }
      writeWhole(INTERNALS_FILE, `${JSON.stringify(await options.store.exportInternals())}\n`);
      // Fencing tokens are read under the hold too: a restored store never meets a counter below
      // a token it accepted.
      if (options.scope === "full" && options.coord) {
        progress.phase = "coordination";
        report();
        const leases = await options.coord.listLeases();
        const file: CoordinationFile = {
          state: await options.coord.exportState(),
          cooldowns: leases
            .filter((l) => l.scope.startsWith("cooldown:"))
            .map((l) => ({ scope: l.scope, holder: l.holder, ttlMs: l.ttlMs })),
        };
        writeWhole(COORDINATION_FILE, `${JSON.stringify(file)}\n`);
      }
    } finally {
      heldMs = now() - cutAt;
      release();
    }
    if (options.scope === "full") {
      progress.phase = "filesystem";
      report();
      const buf = copyBuffer();
      const unsynced: string[] = [];
      for (const f of listRootFiles(options.root)) {
        const rel = `${FILES_DIR}/${f.rel}`;
        const target = join(partial, rel);
        mkdirSync(join(target, ".."), { recursive: true, mode: 0o700 });
        const writer = new HashingWriter(target);
        try {
          await writer.copyFrom(f.abs, buf, (n) => {
            progress.bytes += n;
          });
        } catch (err) {
          writer.abort();
          throw err;
        }
        files.push({ path: rel, ...writer.finish({ sync: false }) });
        unsynced.push(target);
        report();
      }
      // all on disk before the manifest is written: a bundle with a manifest is whole
      await syncFiles(unsynced);
      const config = redactedConfig(options.root);
      if (config !== null) {
        mkdirSync(join(partial, FILES_DIR, "config"), { recursive: true, mode: 0o700 });
        writeWhole(`${FILES_DIR}/${REDACTED_CONFIG}`, config);
      }
    }
    const manifest: Manifest = {
      format: BUNDLE_FORMAT,
      id,
      productVersion: VERSION,
      createdBy: options.createdBy,
      storeKind: options.store.kind,
      coordinationKind: options.coord && options.scope === "full" ? options.coord.kind : "none",
      scope: options.scope,
      createdAt: cutAt,
      cut: { model: "write-hold", at: cutAt, heldMs },
      collections,
      files,
      documentCount: collections.reduce((n, c) => n + c.documents, 0),
      sizeBytes: files.reduce((n, f) => n + f.bytes, 0),
    };
    writeFileSync(join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    renameSync(partial, join(options.backupDir, id));
    progress.phase = "done";
    report();
    return manifest;
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
}
