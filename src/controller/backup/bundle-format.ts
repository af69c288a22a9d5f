/**
 * The backup bundle: one directory `<backup.directory>/<id>/` (id = `yyyyMMdd-HHmmss` UTC).
 *
 *   manifest.json                 written last; its presence is what makes a bundle complete
 *   store/<collection>.ndjson     one JSON document per line, in `_id` order, verbatim
 *   store/_internals.json         fence high-water marks and named counters
 *   coordination.json             fencing tokens, revocations (remaining TTL), cooldowns, event sequence
 *   files/templates/…, files/artifacts/…, files/config/…   filesystem state ("full" scope)
 *
 * A directory rather than one archive: verify and restore read any file without unpacking the rest,
 * a flipped byte is reported against the one file it is in, and operators ship it with rsync/tar as
 * they like. It is built under `<id>.partial/` and renamed whole, so a killed backup leaves only a
 * `.partial` directory that is never listed as a bundle and never verifies.
 */
import { CLUSTER_META } from "../../store/collections.ts";
export const BUNDLE_FORMAT = 1;
export const MANIFEST_FILE = "manifest.json";
export const PARTIAL_SUFFIX = ".partial";
export const STORE_DIR = "store";
export const INTERNALS_FILE = "store/_internals.json";
export const COORDINATION_FILE = "coordination.json";
export const FILES_DIR = "files";

/** `mongo`: the durable store only (hourly runs); `full`: store + coordination + filesystem. */
export type BackupScope = "mongo" | "full";

export interface ManifestCollection {
  name: string;
  /** bundle-relative path of the NDJSON file */
  file: string;
  documents: number;
  bytes: number;
  sha256: string;
}

export interface ManifestFile {
  /** bundle-relative path */
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * How the bundle's content relates to live writes. `write-hold`: every store mutation on the
 * controller was held from `at` until the durable store was read whole (`heldMs`), so the bundle
 * is the state that existed at `at`: every write acknowledged before it is in, none after it.
 */
export interface ConsistencyCut {
  model: "write-hold";
  at: number;
  heldMs: number;
}

export interface Manifest {
  format: number;
  id: string;
  productVersion: string;
  /** controller that wrote it, or "offline" */
  createdBy: string;
  storeKind: "embedded" | "mongodb";
  coordinationKind: "memory" | "valkey" | "none";
  scope: BackupScope;
  createdAt: number;
  cut: ConsistencyCut;
  collections: ManifestCollection[];
  /** every file of the bundle except the manifest, NDJSON files included */
  files: ManifestFile[];
  documentCount: number;
  sizeBytes: number;
}

const ID = /^\d{8}-\d{6}(-\d{1,3})?$/;

/** Bundle ids are also directory names: only this shape is ever joined onto a path. */
export function isBundleId(id: string): boolean {
  return ID.test(id);
}

export function bundleIdAt(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export function collectionFile(name: string): string {
  return `${STORE_DIR}/${name}.ndjson`;
}

/**
 * Collections never carried in a bundle: the restore journal describes the restore itself, and
 * the cluster's JWT secret stays the live one (a restored older secret would split controllers
 * that already hold the current one in memory).
 */
export const UNBACKED_COLLECTIONS = new Set(["restore_journal"]);
export const PRESERVED_DOCS: ReadonlyArray<{ collection: string; id: string }> = [
  { collection: CLUSTER_META, id: "jwt-secret" },
];
