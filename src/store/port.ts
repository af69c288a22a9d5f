/**
 * The durable-state port. Controllers reach authoritative state only through this interface, and
 * every adapter passes tests/contract/store.contract.ts.
 *
 * Portable subset (so the same code runs on bun:sqlite and on any MongoDB-wire server):
 * - documents are JSON: strings, finite numbers, booleans, null, arrays, plain objects. Times are
 *   epoch milliseconds. `_id` is a string chosen by the caller.
 * - no multi-document transactions, no change streams, no TTL indexes: retention is pruned with
 *   `deleteMany` by the owner of the data.
 * - filters: equality, $in, $nin, $ne, $gt, $gte, $lt, $lte, $exists on top-level or dotted paths,
 *   and $or of such clauses. Equality against array-valued fields is not portable; don't rely on it.
 */
export type Scalar = string | number | boolean | null;

export interface Doc {
  _id: string;
  /** revision, maintained by the store: 1 on insert, +1 on every write */
  _rev?: number;
  /** fencing stamp of the last fenced write: scope and token */
  _fence?: { scope: string; token: number };
}

export type FieldCondition =
  | Scalar
  | {
      $in?: Scalar[];
      $nin?: Scalar[];
      $ne?: Scalar;
      $gt?: Scalar;
      $gte?: Scalar;
      $lt?: Scalar;
      $lte?: Scalar;
      $exists?: boolean;
    };

export type Filter = { [field: string]: FieldCondition | Filter[] | undefined } & { $or?: Filter[] };

export type SortSpec = Array<[field: string, direction: 1 | -1]>;

export interface FindOptions {
  sort?: SortSpec;
  skip?: number;
  limit?: number;
}

/** A guarded mutation: the lease scope it was taken under and the fencing token of that lease. */
export interface Fence {
  scope: string;
  token: number;
}

export interface WriteOptions {
  fence?: Fence;
}

export interface UpdateOptions extends WriteOptions {
  /** optimistic concurrency: apply only when the stored `_rev` equals this */
  ifRev?: number;
  /** fields to remove */
  unset?: string[];
}

/** Fields the store owns; callers never set them directly. */
export type StoreManaged = "_rev" | "_fence";
export type NewDoc<T extends Doc> = Omit<T, StoreManaged>;
export type Patch<T extends Doc> = Partial<Omit<T, "_id" | StoreManaged>>;

export interface Collection<T extends Doc> {
  readonly name: string;
  get(id: string): Promise<T | null>;
  /** Throws DUPLICATE_KEY when `_id` or a unique index collides. */
  insert(doc: NewDoc<T>, options?: WriteOptions): Promise<T>;
  /** Creates or replaces the whole document. */
  put(doc: NewDoc<T>, options?: WriteOptions): Promise<T>;
  /**
   * Sets fields on an existing document. Returns the new document, or null when it does not exist.
   * Throws CONFLICT when `ifRev` does not match and STALE_FENCING_TOKEN when fenced out.
   */
  update(id: string, patch: Patch<T>, options?: UpdateOptions): Promise<T | null>;
  /** Returns whether a document was deleted. */
  delete(id: string, options?: UpdateOptions): Promise<boolean>;
  find(filter?: Filter, options?: FindOptions): Promise<T[]>;
  findOne(filter: Filter): Promise<T | null>;
  count(filter?: Filter): Promise<number>;
  /** Bulk removal for retention pruning; returns how many were removed. */
  deleteMany(filter: Filter, options?: WriteOptions): Promise<number>;
  /**
   * Every document in `_id` order, in pages of at most `batchSize`, exactly as stored (with `_rev`
   * and `_fence`). Keyset-paged, so memory stays at one page whatever the collection's size; a
   * document written while the scan runs may or may not be seen (the caller provides the cut).
   */
  scan(batchSize?: number): AsyncIterable<T[]>;
  /**
   * Restore only: writes documents verbatim, keeping their `_rev` and `_fence` (no fence check),
   * replacing any document with the same `_id`.
   */
  importMany(docs: readonly T[]): Promise<void>;
}

/** Store state outside the document collections that a restore must carry over. */
export interface StoreInternals {
  /** highest accepted fencing token per scope */
  fences: Array<{ scope: string; token: number }>;
  /** named sequences (nextSequence) and their current value */
  counters: Array<{ name: string; value: number }>;
}

export interface DurableStore {
  readonly kind: "embedded" | "mongodb";
  /** where it lives, with any password redacted, for logs and errors */
  readonly location: string;
  collection<T extends Doc>(name: string): Collection<T>;
  /** Next value of a named counter (1, 2, 3, …), atomic across controllers. */
  nextSequence(name: string): Promise<number>;
  /** Highest fencing token accepted so far for a scope (0 when none). */
  fenceHighWater(scope: string): Promise<number>;
  /** Names of the document collections that exist (adapter-internal ones excluded), sorted. */
  listCollections(): Promise<string[]>;
  exportInternals(): Promise<StoreInternals>;
  /**
   * Restore only: raises each fence high-water mark to at least the given token (never lowers one,
   * so no stale writer is let back in) and sets each counter to at least the given value.
   */
  importInternals(internals: StoreInternals): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
