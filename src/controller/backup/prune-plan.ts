/** What the backup directory holds, as the prune planner sees it. */
export interface BundleEntry {
  id: string;
  /** a completed bundle (renamed from .partial, manifest present) */
  complete: boolean;
  /** directory mtime in epoch ms */
  modifiedAt: number;
}

export interface PrunePlan {
  keep: string[];
  remove: string[];
  /** `.partial` directories of backups that died; only ones older than the grace are removed */
  removePartials: string[];
}

/** A partial this young may belong to a backup still running (on this or another controller). */
export const PARTIAL_GRACE_MS = 60 * 60 * 1000;

/**
 * Keeps the `keep` newest complete bundles (ids sort by time), removes the other complete ones, and
 * removes partial directories older than the grace. Pure: the caller lists and deletes.
 */
export function planPrune(entries: readonly BundleEntry[], keep: number, now: number): PrunePlan {
  const complete = entries.filter((e) => e.complete).sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const n = Math.max(0, Math.floor(keep));
  return {
    keep: complete.slice(0, n).map((e) => e.id),
    remove: complete.slice(n).map((e) => e.id),
    removePartials: entries
      .filter((e) => !e.complete && now - e.modifiedAt > PARTIAL_GRACE_MS)
      .map((e) => e.id)
      .sort(),
  };
}
