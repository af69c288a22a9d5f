import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Coordination, Lease } from "../../coord/port.ts";
import { systemClock } from "../../core/clock.ts";
import { AppError } from "../../core/errors.ts";
import type { DurableStore } from "../../store/port.ts";
import { countActiveDeployments } from "../deployments/deployment-doc.ts";
import { countOpenDrains } from "../scheduler/loop/drain-workflow.ts";
import {
  type BackupScope,
  isBundleId,
  MANIFEST_FILE,
  type Manifest,
  PARTIAL_SUFFIX,
} from "./bundle-format.ts";
import { readManifest, type VerifyResult, verifyBundle } from "./bundle-verifier.ts";
import { type BackupProgress, createBundle } from "./bundle-writer.ts";
import type { HoldGate } from "./cluster-hold.ts";
import { type PrunePlan, planPrune } from "./prune-plan.ts";
import { planRestore, type RestoreOptions } from "./restore-plan.ts";
import {
  applyRestore,
  type RestoreProgress,
  type RestoreReport,
  unfinishedRestore,
} from "./restore-runner.ts";

/** One lease for backups and restores cluster-wide: never two at once, never one during the other. */
export const BACKUP_LEASE = "backup";
const LEASE_TTL_MS = 30_000;

export interface BundleSummary {
  id: string;
  createdAt: number;
  scope: BackupScope;
  storeKind: string;
  documentCount: number;
  sizeBytes: number;
  fileCount: number;
  productVersion: string;
}

export interface BackupServiceDeps {
  /** the store itself (backups read it, restores write it, past the write gate) */
  store: DurableStore;
  coord: Coordination | null;
  root: string;
  backupDir: string;
  retentionCount: number;
  holder: string;
  /** the cluster's write gate (every controller's mutations); null offline */
  gate: HoldGate | null;
  /** every backup run, scheduled or requested, is counted here */
  metrics?: { backupRun(run: { seconds: number; ok: boolean }): void };
  now?: () => number;
}

function summary(m: Manifest): BundleSummary {
  return {
    id: m.id,
    createdAt: m.createdAt,
    scope: m.scope,
    storeKind: m.storeKind,
    documentCount: m.documentCount,
    sizeBytes: m.sizeBytes,
    fileCount: m.files.length,
    productVersion: m.productVersion,
  };
}

/** Backups, verify, prune and restore: the one place the routes, the schedule and the CLI call. */
/** What this controller is doing right now, for progress bars (`GET /backups/progress`). */
export interface ActiveProgress {
  kind: "backup" | "restore";
  id: string | null;
  phase: string;
  documents: number;
  bytes: number;
  /** known for a restore (from the manifest), null while a backup runs */
  totalDocuments: number | null;
  totalBytes: number | null;
  startedAt: number;
}

export class BackupService {
  private active: ActiveProgress | null = null;

  constructor(private readonly deps: BackupServiceDeps) {}

  /** where this controller keeps its bundles */
  get backupDirectory(): string {
    return this.deps.backupDir;
  }

  progress(): ActiveProgress | null {
    return this.active ? { ...this.active } : null;
  }

  private track(
    kind: ActiveProgress["kind"],
    id: string | null,
    totals: { documents: number; bytes: number } | null,
  ) {
    const entry: ActiveProgress = {
      kind,
      id,
      phase: "starting",
      documents: 0,
      bytes: 0,
      totalDocuments: totals?.documents ?? null,
      totalBytes: totals?.bytes ?? null,
      startedAt: this.now(),
    };
    this.active = entry;
    return {
      update: (p: { phase: string; documents: number; bytes: number }) => {
        entry.phase = p.phase;
        entry.documents = p.documents;
        entry.bytes = p.bytes;
      },
      done: () => {
        if (this.active === entry) this.active = null;
      },
    };
  }

  private now(): number {
    return (this.deps.now ?? systemClock.now)();
  }

  private dirOf(id: string): string {
    if (!isBundleId(id))
      throw new AppError("NOT_FOUND", `backup ${JSON.stringify(id)} does not exist`, { id });
    const dir = join(this.deps.backupDir, id);
    if (!existsSync(join(dir))) throw new AppError("NOT_FOUND", `backup ${id} does not exist`, { id });
    return dir;
  }

  /** Runs `fn` holding the cluster-wide backup lease, renewed while it runs. */
  private async exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const coord = this.deps.coord;
    if (!coord) return fn();
    const lease: Lease | null = await coord.acquireLease(BACKUP_LEASE, this.deps.holder, LEASE_TTL_MS);
    if (!lease) throw new AppError("CONFLICT", `another backup or restore is running; ${what} refused`);
    const renew = setInterval(
      // a missed renewal is retried on the next tick; if the lease expires the next write is fenced out
      () => void coord.renewLease(lease, LEASE_TTL_MS).catch(() => false),
      LEASE_TTL_MS / 3,
    );
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      // release is a courtesy: an unreleased lease expires after its TTL
      await coord.releaseLease(lease).catch(() => false);
    }
  }

  list(): BundleSummary[] {
    if (!existsSync(this.deps.backupDir)) return [];
    const out: BundleSummary[] = [];
    for (const name of readdirSync(this.deps.backupDir)) {
      if (!isBundleId(name)) continue;
      const { manifest } = readManifest(join(this.deps.backupDir, name));
      if (manifest) out.push(summary(manifest));
    }
    return out.sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  get(id: string): Manifest {
    const { manifest, problem } = readManifest(this.dirOf(id));
    if (!manifest)
      throw new AppError("INVALID_ARGUMENT", `backup ${id}: ${MANIFEST_FILE} ${problem!.reason}`, {
        id,
        file: MANIFEST_FILE,
      });
    return manifest;
  }

  async create(scope: BackupScope, onProgress?: (p: BackupProgress) => void): Promise<Manifest> {
    const started = this.now();
    try {
      const manifest = await this.createNow(scope, onProgress);
      this.deps.metrics?.backupRun({ seconds: (this.now() - started) / 1000, ok: true });
      return manifest;
    } catch (err) {
      this.deps.metrics?.backupRun({ seconds: (this.now() - started) / 1000, ok: false });
      throw err;
    }
  }

  private async createNow(scope: BackupScope, onProgress?: (p: BackupProgress) => void): Promise<Manifest> {
    const tracker = this.track("backup", null, null);
    const manifest = await this.exclusive("backup", () =>
      createBundle({
        store: this.deps.store,
        coord: this.deps.coord,
        root: this.deps.root,
        backupDir: this.deps.backupDir,
        scope,
        createdBy: this.deps.holder,
        hold: this.deps.gate,
        now: this.deps.now,
        onProgress: (p) => {
          tracker.update(p);
          onProgress?.(p);
        },
      }),
    ).finally(tracker.done);
    this.prune(this.deps.retentionCount);
    return manifest;
  }

  async verify(id: string): Promise<VerifyResult> {
    return verifyBundle(this.dirOf(id), id);
  }

  delete(id: string): void {
    rmSync(this.dirOf(id), { recursive: true, force: true });
  }

  prune(keep = this.deps.retentionCount): PrunePlan {
    if (!Number.isInteger(keep) || keep < 0)
      throw new AppError("INVALID_ARGUMENT", "keep must be a whole number ≥ 0", { keep });
    if (!existsSync(this.deps.backupDir)) return { keep: [], remove: [], removePartials: [] };
    const entries = readdirSync(this.deps.backupDir)
      .map((name) => {
        const partial = name.endsWith(PARTIAL_SUFFIX);
        const id = partial ? name.slice(0, -PARTIAL_SUFFIX.length) : name;
        if (!isBundleId(id)) return null;
        const dir = join(this.deps.backupDir, name);
        return {
          id: name,
          complete: !partial && existsSync(join(dir, MANIFEST_FILE)),
          modifiedAt: statSync(dir).mtimeMs,
        };
      })
      .filter((e) => e !== null);
    const plan = planPrune(entries, keep, this.now());
    for (const name of [...plan.remove, ...plan.removePartials]) {
      rmSync(join(this.deps.backupDir, name), { recursive: true, force: true });
    }
    return plan;
  }

  unfinishedRestore() {
    return unfinishedRestore(this.deps.store);
  }

  /**
   * Runs again a restore this controller started and did not finish (it died half-way): the
   * journal names the bundle and what was asked, and a restore is idempotent. A restore another
   * controller started is left to it (the bundle is on its disk); null when there is nothing to do.
   */
  async resumeUnfinished(onProgress?: (p: RestoreProgress) => void): Promise<RestoreReport | null> {
    const journal = await this.unfinishedRestore();
    if (!journal || journal.by !== this.deps.holder) return null;
    return this.restore(
      journal.bundle,
      { dryRun: false, filesystem: journal.filesystem ?? true, datastores: journal.datastores ?? true },
      onProgress,
    );
  }

  /**
   * Verify first (a bad bundle is refused before anything is touched), then refuse while a node
   * drain or deployment is running, then close the write gate and apply under the backup lease.
   */
  async restore(
    id: string,
    options: RestoreOptions,
    onProgress?: (p: RestoreProgress) => void,
  ): Promise<RestoreReport> {
    const dir = this.dirOf(id);
    const verified = await verifyBundle(dir, id);
    if (!verified.valid) {
      const first = verified.problems[0]!;
      throw new AppError(
        "RESTORE_REJECTED",
        `backup ${id} failed verification: ${first.file}: ${first.reason}`,
        {
          id,
          file: first.file,
          missingFiles: verified.missingFiles,
          mismatchedFiles: verified.mismatchedFiles,
          problems: verified.problems,
        },
      );
    }
    const manifest = verified.manifest!;
    await this.refuseWhileBusy();
    const current: Record<string, number> = {};
    for (const name of await this.deps.store.listCollections()) {
      current[name] = await this.deps.store.collection(name).count();
    }
    const plan = planRestore(manifest, current, options);
    if (options.dryRun) {
      return {
        bundle: id,
        dryRun: true,
        datastores: {
          applied: false,
          collections: plan.collections,
          documents: 0,
          coordination: plan.coordination,
        },
        filesystem: { applied: false, entryCount: plan.files.length, rollbackRoot: null },
        tokensValidAfter: null,
        notes: plan.notes,
      };
    }
    const tracker = this.track("restore", id, {
      documents: manifest.documentCount,
      bytes: manifest.sizeBytes,
    });
    return this.exclusive("restore", async () => {
      const reopen = this.deps.gate
        ? await this.deps.gate.close("a restore is running; retry when it has finished")
        : () => {};
      try {
        const report = await applyRestore({
          by: this.deps.holder,
          requested: { filesystem: options.filesystem, datastores: options.datastores },
          store: this.deps.store,
          coord: this.deps.coord,
          root: this.deps.root,
          dir,
          manifest,
          plan,
          backupDir: this.deps.backupDir,
          now: this.deps.now,
          onProgress: (p) => {
            tracker.update(p);
            onProgress?.(p);
          },
        });
        return report;
      } finally {
        // Whole again (journal gone) or still half-restored (journal left by a failure): the gate
        // reads which before it opens, so a failed restore never leaves the store served silently.
        await this.deps.gate?.settle?.().catch(() => undefined);
        reopen();
      }
    }).finally(tracker.done);
  }

  private async refuseWhileBusy(): Promise<void> {
    const drains = await countOpenDrains(this.deps.store);
    if (drains > 0)
      throw new AppError(
        "CONFLICT",
        `a node drain is in progress (${drains}); restore refused until it ends`,
        { drains },
      );
    const deployments = await countActiveDeployments(this.deps.store);
    if (deployments > 0) {
      throw new AppError(
        "CONFLICT",
        `a deployment is in progress (${deployments}); restore refused until it ends`,
        { deployments },
      );
    }
  }
}
