import type { Manifest } from "./bundle-format.ts";
import { UNBACKED_COLLECTIONS } from "./bundle-format.ts";

export interface RestoreOptions {
  dryRun: boolean;
  filesystem: boolean;
  datastores: boolean;
}

export interface CollectionStep {
  name: string;
  /** replace: clear, then load the bundle's documents; clear: the bundle has none of it */
  action: "replace" | "clear";
  documents: number;
  currentDocuments: number;
}

export interface RestorePlan {
  bundle: string;
  collections: CollectionStep[];
  internals: boolean;
  coordination: boolean;
  /** bundle-relative files placed into the install root */
  files: string[];
  /** why a scope the caller asked for does nothing */
  notes: string[];
}

/**
 * What a restore will do, from the manifest and the live collections' sizes. The store ends up
 * exactly as in the bundle: collections the bundle lacks are emptied too. Pure.
 */
export function planRestore(
  manifest: Manifest,
  current: Readonly<Record<string, number>>,
  options: RestoreOptions,
): RestorePlan {
  const plan: RestorePlan = {
    bundle: manifest.id,
    collections: [],
    internals: false,
    coordination: false,
    files: [],
    notes: [],
  };
  if (options.datastores) {
    const inBundle = new Map(manifest.collections.map((c) => [c.name, c]));
    const names = new Set([...inBundle.keys(), ...Object.keys(current)]);
    for (const name of [...names].sort()) {
      if (UNBACKED_COLLECTIONS.has(name)) continue;
      const c = inBundle.get(name);
      const currentDocuments = current[name] ?? 0;
      if (c) plan.collections.push({ name, action: "replace", documents: c.documents, currentDocuments });
      else if (currentDocuments > 0)
        plan.collections.push({ name, action: "clear", documents: 0, currentDocuments });
    }
    if (inBundle.has("cluster_files")) {
      plan.notes.push("restart every controller afterwards so it serves the restored cluster CA");
    }
    plan.internals = manifest.files.some((f) => f.path === "store/_internals.json");
    plan.coordination = manifest.files.some((f) => f.path === "coordination.json");
    if (!plan.coordination) plan.notes.push("the bundle has no coordination state (scope mongo)");
  }
  if (options.filesystem) {
    plan.files = manifest.files
      .map((f) => f.path)
      .filter((p) => p.startsWith("files/") && p !== "files/config/controller.yml")
      .sort();
    if (plan.files.length === 0) plan.notes.push("the bundle has no filesystem state (scope mongo)");
  }
  return plan;
}
