import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Coordination } from "../../coord/port.ts";
import { systemClock } from "../../core/clock.ts";
import type { CollectionName } from "../../store/collections.ts";
import type { Doc, DurableStore, StoreInternals } from "../../store/port.ts";
import { COORDINATION_FILE, INTERNALS_FILE, type Manifest, PRESERVED_DOCS } from "./bundle-format.ts";
import type { CoordinationFile } from "./bundle-writer.ts";
import { stageFiles } from "./file-staging.ts";
import { ROOT_FILES, ROOT_TREES } from "./filesystem-state.ts";
import { GarbageReclaimer } from "./garbage-reclaimer.ts";
import { type BatchLimits, DEFAULT_BATCH, ndjsonBatches, pipelineBatches } from "./ndjson-batches.ts";
import type { RestorePlan } from "./restore-plan.ts";

export const RESTORE_JOURNAL = "restore_journal" satisfies CollectionName;
const JOURNAL_ID = "current";

export interface RestoreJournal extends Doc {
  bundle: string;
  startedAt: number;
  phase: string;
  /** the controller running it (it holds the bundle on its disk); absent offline */
  by?: string;
  /** what was asked, so the restore can be run again the same way */
  filesystem?: boolean;
  datastores?: boolean;
}

export interface RestoreProgress {
  phase: string;
  documents: number;
  bytes: number;
}

export interface RestoreReport {
  bundle: string;
  dryRun: boolean;
  datastores: {
    applied: boolean;
    collections: Array<{ name: string; action: string; documents: number; currentDocuments: number }>;
    documents: number;
    coordination: boolean;
  };
  filesystem: { applied: boolean; entryCount: number; rollbackRoot: string | null };
  /** users were replaced: every token issued before this instant is refused (log in again) */
  tokensValidAfter: number | null;
  notes: string[];
}

/** A restore that started and did not finish (the process died, the store went away). */
export async function unfinishedRestore(store: DurableStore): Promise<RestoreJournal | null> {
  return store.collection<RestoreJournal>(RESTORE_JOURNAL).get(JOURNAL_ID);
}

export interface ApplyRestoreOptions {
  store: DurableStore;
  coord: Coordination | null;
  root: string;
  /** the verified bundle's directory */
  dir: string;
  manifest: Manifest;
  plan: RestorePlan;
  /** where displaced trees go: `<backupDir>/.rollback/<ts>/` */
  backupDir: string;
  batch?: BatchLimits;
  now?: () => number;
  onProgress?: (p: RestoreProgress) => void;
  /** recorded in the journal: who runs it and what was asked */
  by?: string;
  requested?: { filesystem: boolean; datastores: boolean };
}

/**
 * Applies a plan. Idempotent by construction (each collection is emptied, then loaded), so a
 * restore that died half-way is finished by running it again; until then the journal document
 * says so (`unfinishedRestore`). Fences and counters are only raised, never lowered.
 */
export async function applyRestore(options: ApplyRestoreOptions): Promise<RestoreReport> {
  const now = options.now ?? systemClock.now;
  const { store, plan } = options;
  const startedAt = now();
  const validAfter = startedAt / 1000;
  const progress: RestoreProgress = { phase: "store", documents: 0, bytes: 0 };
  const journal = store.collection<RestoreJournal>(RESTORE_JOURNAL);
  const mark = (phase: string) =>
    journal.put({
      _id: JOURNAL_ID,
      bundle: plan.bundle,
      startedAt,
      phase,
      ...(options.by ? { by: options.by } : {}),
      ...options.requested,
    });
  const report: RestoreReport = {
    bundle: plan.bundle,
    dryRun: false,
    datastores: { applied: false, collections: plan.collections, documents: 0, coordination: false },
    filesystem: { applied: false, entryCount: 0, rollbackRoot: null },
    tokensValidAfter: null,
    notes: [...plan.notes],
  };
  await mark("store");
  // Files are staged (copied beside the live tree, nothing live touched) while the store loads:
  // the two are independent until the swap, which still happens after the store is whole.
  const stamp = String(startedAt);
  const staging = join(options.root, `.restore-${stamp}`);
  const sizes = new Map(options.manifest.files.map((f) => [f.path, f.bytes]));
  let staged: Promise<void> = Promise.resolve();
  if (plan.files.length > 0) {
    rmSync(staging, { recursive: true, force: true });
    staged = stageFiles({
      dir: options.dir,
      staging,
      files: plan.files,
      sizes,
      onBytes: (n) => {
        progress.bytes += n;
      },
    });
    // observed below (awaited, or awaited before the staging tree is removed on failure)
    staged.catch(() => undefined);
  }
  try {
    return await applyPhases();
  } catch (err) {
    // the store phase's error is the one to report; staging only has to have stopped
    await staged.catch(() => undefined);
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }

  async function applyPhases(): Promise<RestoreReport> {
    // Batches are up to 2,500 documents: collect every 6 (about 15k documents). Each forced
    // collection stops the event loop for a full mark of the heap (30-40 ms in the bench); with
    // the batcher's garbage halved, 6 keeps the growth where 4 kept it before.
    const reclaim = new GarbageReclaimer(6);
    if (plan.collections.length > 0) {
      for (const step of plan.collections) {
        const col = store.collection<Doc>(step.name);
        const preserved: Doc[] = [];
        for (const p of PRESERVED_DOCS) {
          if (p.collection !== step.name) continue;
          const doc = await col.get(p.id);
          if (doc) preserved.push(doc);
        }
        await col.deleteMany({});
        if (step.action === "replace") {
          const path = join(options.dir, `store/${step.name}.ndjson`);
          const keep = new Set(preserved.map((d) => d._id));
          await pipelineBatches(ndjsonBatches(path, options.batch ?? DEFAULT_BATCH), async (batch) => {
            reclaim.batch();
            let docs = keep.size > 0 ? batch.filter((d) => !keep.has(d._id)) : batch;
            // Users come back as they were at the cut, but no token issued before now stays valid.
            if (step.name === "users") docs = docs.map((d) => ({ ...d, tokensValidAfter: validAfter }));
            await col.importMany(docs);
            progress.documents += docs.length;
            report.datastores.documents += docs.length;
            options.onProgress?.({ ...progress });
          });
        }
        if (preserved.length > 0) await col.importMany(preserved);
      }
      if (plan.collections.some((c) => c.name === "users")) report.tokensValidAfter = validAfter;
      if (plan.internals) {
        const internals = JSON.parse(
          readFileSync(join(options.dir, INTERNALS_FILE), "utf8"),
        ) as StoreInternals;
        await store.importInternals(internals);
      }
      report.datastores.applied = true;
    }
    if (plan.coordination && options.coord) {
      await mark("coordination");
      progress.phase = "coordination";
      options.onProgress?.({ ...progress });
      const file = JSON.parse(readFileSync(join(options.dir, COORDINATION_FILE), "utf8")) as CoordinationFile;
      await options.coord.importState(file.state);
      for (const c of file.cooldowns) {
        // a cooldown that cannot be re-armed only lets a peer act sooner; the restore itself is complete
        if (c.ttlMs > 0) await options.coord.acquireLease(c.scope, c.holder, c.ttlMs).catch(() => null);
      }
      // Tokens the store accepted are above anything the coordination counter may hand out next.
      for (const f of (JSON.parse(readFileSync(join(options.dir, INTERNALS_FILE), "utf8")) as StoreInternals)
        .fences) {
        await options.coord.raiseFencingToken(f.scope, f.token);
      }
      report.datastores.coordination = true;
    }
    if (plan.files.length > 0) {
      await mark("filesystem");
      progress.phase = "filesystem";
      options.onProgress?.({ ...progress });
      const rollback = join(options.backupDir, ".rollback", stamp);
      await staged;
      mkdirSync(rollback, { recursive: true, mode: 0o700 });
      for (const entry of [...ROOT_TREES, ...ROOT_FILES]) {
        const staged = join(staging, entry);
        if (!existsSync(staged)) continue;
        const live = join(options.root, entry);
        if (existsSync(live)) {
          mkdirSync(dirname(join(rollback, entry)), { recursive: true, mode: 0o700 });
          renameSync(live, join(rollback, entry));
        }
        mkdirSync(dirname(live), { recursive: true, mode: 0o700 });
        renameSync(staged, live);
      }
      rmSync(staging, { recursive: true, force: true });
      report.filesystem = { applied: true, entryCount: plan.files.length, rollbackRoot: rollback };
    }
    await journal.delete(JOURNAL_ID);
    progress.phase = "done";
    options.onProgress?.({ ...progress });
    return report;
  }
}
