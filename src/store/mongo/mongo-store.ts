import {
  type Db,
  type Document,
  MongoClient,
  type Collection as MongoCollection,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from "mongodb";
import { AppError } from "../../core/errors.ts";
import { guardOutages, OutageBreaker, type OutageGuardOptions } from "../../core/outage-guard.ts";
import { redactUri } from "../../log/redact.ts";
import { COLLECTIONS, COUNTERS_COLLECTION, checkCollectionName, FENCES_COLLECTION } from "../collections.ts";
import { checkRev, stamp, stripManaged } from "../doc-stamp.ts";
import { checkFilter, staleFence } from "../filter-check.ts";
import type {
  Collection,
  Doc,
  DurableStore,
  Fence,
  Filter,
  FindOptions,
  NewDoc,
  Patch,
  StoreInternals,
  UpdateOptions,
  WriteOptions,
} from "../port.ts";

export interface MongoStoreOptions {
  uri: string;
  database: string;
  connectTimeoutMs?: number;
  /**
   * Bound on one request-path operation: server selection and every socket read. Past it the
   * operation fails with STORE_UNAVAILABLE (503) instead of hanging while MongoDB is down or paused.
   */
  operationTimeoutMs?: number;
}

/** Driver errors that mean MongoDB cannot be reached right now (not a bad query or a conflict). */
export function isMongoOutage(err: unknown): boolean {
  return (
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNetworkError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoOperationTimeoutError ||
    err instanceof MongoServerClosedError
  );
}

/** One document's failure inside a bulk write, as the server reports it. */
interface WriteFailure {
  index?: number;
  code?: number;
  errmsg?: string;
}

/** Conditional writes retry this often when they lose a race before giving up with CONFLICT. */
const MAX_RACE_RETRIES = 16;
const MAX_SEQUENCE_RETRIES = 256;

type Raw = { _id: string } & Record<string, unknown>;

/**
 * MongoDB adapter, written against the portable subset in port.ts (no transactions, no change
 * streams, no TTL). Fenced writes are two conditional single-document writes: raise the scope's
 * high-water mark with `$max` only if it is not above our token, then write the document only if
 * its own fence stamp is not newer. The first step is the linearisation point: once a newer token
 * has been accepted for the scope, every older one is refused.
 */
export class MongoStore implements DurableStore {
  readonly kind = "mongodb" as const;
  readonly location: string;
  private readonly collections = new Map<string, MongoDocCollection<Doc>>();
  /** one breaker for the store and all its collections: an outage is the server's, not a collection's */
  readonly guard: OutageGuardOptions;

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    uri: string,
    operationTimeoutMs: number,
  ) {
    this.location = `${redactUri(uri)} (database ${db.databaseName})`;
    // A little over the driver's own bound (socket + one retry's selection), so its error, which
    // says more, usually wins; bulk restore and retention sweeps may take longer.
    this.guard = {
      breaker: new OutageBreaker(),
      deadlineMs: operationTimeoutMs + 250,
      unbounded: new Set(["importMany", "deleteMany", "importInternals"]),
    };
  }

  static async connect(options: MongoStoreOptions): Promise<MongoStore> {
    const timeout = options.connectTimeoutMs ?? 5000;
    const operationTimeout = options.operationTimeoutMs ?? 2500;
    const client = new MongoClient(options.uri, {
      // Half each: a read or write that meets a dead socket is retried once after a new server
      // selection, and socket wait plus selection must together fit the operation's bound.
      serverSelectionTimeoutMS: Math.max(50, Math.floor(Math.min(timeout, operationTimeout) / 2)),
      connectTimeoutMS: timeout,
      socketTimeoutMS: Math.max(50, Math.floor(operationTimeout / 2)),
      appName: "prexorcloud",
    });
    try {
      await client.connect();
      await client.db(options.database).command({ ping: 1 });
    } catch (err) {
      // already failing: the connect error is the one reported below
      await client.close().catch(() => {});
      throw new AppError(
        "STORE_UNAVAILABLE",
        `cannot reach MongoDB at ${redactUri(options.uri)}: ${(err as Error).message}`,
        { uri: redactUri(options.uri) },
        { cause: err },
      );
    }
    const store = new MongoStore(client, client.db(options.database), options.uri, operationTimeout);
    await store.ensureIndexes();
    return guardOutages(
      store,
      "STORE_UNAVAILABLE",
      `MongoDB at ${store.location}`,
      isMongoOutage,
      store.guard,
    );
  }

  private async ensureIndexes(): Promise<void> {
    for (const [name, indexes] of Object.entries(COLLECTIONS)) {
      const col = this.db.collection(name);
      for (const index of indexes) {
        await col.createIndex(Object.fromEntries(index.fields), {
          name: index.name,
          unique: index.unique ?? false,
          // Documents without the field stay unconstrained, as in the embedded store.
          sparse: index.unique ?? false,
        });
      }
    }
  }

  raw(name: string): MongoCollection<Raw> {
    return this.db.collection<Raw>(name);
  }

  runCommand(command: Document): Promise<Document> {
    return this.db.command(command);
  }

  collection<T extends Doc>(name: string): Collection<T> {
    let col = this.collections.get(name);
    if (!col) {
      col = guardOutages(
        new MongoDocCollection(this, checkCollectionName(name)),
        "STORE_UNAVAILABLE",
        `MongoDB at ${this.location}`,
        isMongoOutage,
        this.guard,
      );
      this.collections.set(name, col);
    }
    return col as unknown as Collection<T>;
  }

  async nextSequence(name: string): Promise<number> {
    const counters = this.raw(COUNTERS_COLLECTION);
    // A compare-and-set on the current value, not findOneAndUpdate+$inc: the returned document of
    // the latter is not reliably the one this call produced on every MongoDB-wire server, while a
    // conditional single-document update is atomic everywhere.
    for (let attempt = 0; attempt < MAX_SEQUENCE_RETRIES; attempt++) {
      const current = await counters.findOne({ _id: name });
      if (!current) {
        try {
          await counters.insertOne({ _id: name, value: 1 });
          return 1;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          continue;
        }
      }
      const value = Number(current.value);
      const res = await counters.updateOne({ _id: name, value }, { $set: { value: value + 1 } });
      if (res.modifiedCount === 1) return value + 1;
    }
    throw new AppError("CONFLICT", `counter "${name}" is too contended; retry`);
  }

  async fenceHighWater(scope: string): Promise<number> {
    const doc = await this.raw(FENCES_COLLECTION).findOne({ _id: scope });
    return Number(doc?.token ?? 0);
  }

  async acceptFence(fence: Fence | undefined): Promise<void> {
    if (!fence) return;
    const fences = this.raw(FENCES_COLLECTION);
    for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
      const raised = await fences.updateOne(
        { _id: fence.scope, token: { $lte: fence.token } },
        { $max: { token: fence.token } },
      );
      if (raised.matchedCount === 1) return;
      const current = await fences.findOne({ _id: fence.scope });
      if (current) {
        const highest = Number(current.token);
        if (highest > fence.token) throw staleFence(fence.scope, fence.token, highest);
        continue;
      }
      try {
        await fences.insertOne({ _id: fence.scope, token: fence.token });
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    throw new AppError("CONFLICT", `fence for "${fence.scope}" kept changing; retry`);
  }

  async listCollections(): Promise<string[]> {
    const internal = new Set([FENCES_COLLECTION, COUNTERS_COLLECTION]);
    const names = await this.db.listCollections({}, { nameOnly: true }).toArray();
    return names
      .map((c) => c.name)
      .filter((n) => !internal.has(n) && !n.startsWith("system."))
      .sort();
  }

  async exportInternals(): Promise<StoreInternals> {
    const fences = await this.raw(FENCES_COLLECTION).find({}).sort({ _id: 1 }).toArray();
    const counters = await this.raw(COUNTERS_COLLECTION).find({}).sort({ _id: 1 }).toArray();
    return {
      fences: fences.map((d) => ({ scope: d._id, token: Number(d.token) })),
      counters: counters.map((d) => ({ name: d._id, value: Number(d.value) })),
    };
  }

  async importInternals(internals: StoreInternals): Promise<void> {
    // $max on an upsert is one atomic single-document write: never lowers a mark.
    for (const f of internals.fences) {
      await this.raw(FENCES_COLLECTION).updateOne(
        { _id: f.scope },
        { $max: { token: f.token } },
        { upsert: true },
      );
    }
    for (const c of internals.counters) {
      await this.raw(COUNTERS_COLLECTION).updateOne(
        { _id: c.name },
        { $max: { value: c.value } },
        { upsert: true },
      );
    }
  }

  async ping(): Promise<void> {
    try {
      await this.db.command({ ping: 1 });
    } catch (err) {
      throw new AppError("STORE_UNAVAILABLE", `MongoDB at ${this.location} is unreachable`, undefined, {
        cause: err,
      });
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === 11000;
}

/** A document may be written under a fence only if its own stamp is not from a newer token. */
function fenceCondition(fence: Fence | undefined): Record<string, unknown> {
  if (!fence) return {};
  return { $or: [{ "_fence.scope": { $ne: fence.scope } }, { "_fence.token": { $lte: fence.token } }] };
}

class MongoDocCollection<T extends Doc> implements Collection<T> {
  private readonly col: MongoCollection<Raw>;

  constructor(
    private readonly store: MongoStore,
    readonly name: string,
  ) {
    this.col = store.raw(name);
  }

  private duplicate(err: unknown, id: string): never {
    if (isDuplicateKey(err)) {
      throw new AppError("DUPLICATE_KEY", `${this.name}: a document with the same key already exists`, {
        collection: this.name,
        id,
      });
    }
    throw err;
  }

  /** Why a conditional write matched nothing: gone, changed, or fenced out. */
  private async explainMiss(
    id: string,
    ifRev: number | undefined,
    fence: Fence | undefined,
  ): Promise<T | null> {
    const current = (await this.col.findOne({ _id: id })) as T | null;
    if (!current) return null;
    checkRev(this.name, id, current, ifRev);
    if (fence && current._fence?.scope === fence.scope && current._fence.token > fence.token) {
      throw staleFence(fence.scope, fence.token, current._fence.token);
    }
    return current;
  }

  async get(id: string): Promise<T | null> {
    return (await this.col.findOne({ _id: id })) as T | null;
  }

  async insert(doc: NewDoc<T>, options: WriteOptions = {}): Promise<T> {
    await this.store.acceptFence(options.fence);
    const stored = stamp<T>(doc, 1, options.fence);
    try {
      await this.col.insertOne(stored as unknown as Raw);
    } catch (err) {
      this.duplicate(err, doc._id);
    }
    return stored;
  }

  async put(doc: NewDoc<T>, options: WriteOptions = {}): Promise<T> {
    await this.store.acceptFence(options.fence);
    for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
      const current = (await this.col.findOne({ _id: doc._id })) as T | null;
      if (!current) {
        const stored = stamp<T>(doc, 1, options.fence);
        try {
          await this.col.insertOne(stored as unknown as Raw);
          return stored;
        } catch (err) {
          if (isDuplicateKey(err) && (await this.col.countDocuments({ _id: doc._id })) > 0) continue;
          this.duplicate(err, doc._id);
        }
      }
      const stored = stamp<T>(doc, (current!._rev ?? 0) + 1, options.fence ?? current!._fence);
      try {
        const res = await this.col.replaceOne(
          { _id: doc._id, _rev: current!._rev ?? { $exists: false }, ...fenceCondition(options.fence) },
          stored as unknown as Raw,
        );
        if (res.matchedCount === 1) return stored;
      } catch (err) {
        this.duplicate(err, doc._id);
      }
      await this.explainMiss(doc._id, undefined, options.fence);
    }
    throw new AppError("CONFLICT", `${this.name}/${doc._id} kept changing; retry`);
  }

  async update(id: string, patch: Patch<T>, options: UpdateOptions = {}): Promise<T | null> {
    await this.store.acceptFence(options.fence);
    const set: Record<string, unknown> = stripManaged(patch as Record<string, unknown>);
    if (options.fence) set._fence = { scope: options.fence.scope, token: options.fence.token };
    const update: Record<string, unknown> = { $inc: { _rev: 1 } };
    if (Object.keys(set).length > 0) update.$set = set;
    if (options.unset?.length) update.$unset = Object.fromEntries(options.unset.map((f) => [f, ""]));
    const filter: Record<string, unknown> = { _id: id, ...fenceCondition(options.fence) };
    if (options.ifRev !== undefined) filter._rev = options.ifRev;
    let after: Raw | null;
    try {
      after = await this.col.findOneAndUpdate(filter, update, { returnDocument: "after" });
    } catch (err) {
      this.duplicate(err, id);
    }
    if (after) return after as unknown as T;
    const current = await this.explainMiss(id, options.ifRev, options.fence);
    if (current === null) return null;
    // It exists, the revision matches and the fence is fine, so it changed between our write and read.
    throw new AppError("CONFLICT", `${this.name}/${id} was changed concurrently`, {
      collection: this.name,
      id,
    });
  }

  async delete(id: string, options: UpdateOptions = {}): Promise<boolean> {
    await this.store.acceptFence(options.fence);
    const filter: Record<string, unknown> = { _id: id, ...fenceCondition(options.fence) };
    if (options.ifRev !== undefined) filter._rev = options.ifRev;
    const res = await this.col.deleteOne(filter);
    if (res.deletedCount === 1) return true;
    const current = await this.explainMiss(id, options.ifRev, options.fence);
    if (current === null) return false;
    throw new AppError("CONFLICT", `${this.name}/${id} was changed concurrently`, {
      collection: this.name,
      id,
    });
  }

  async find(filter: Filter = {}, options: FindOptions = {}): Promise<T[]> {
    checkFilter(filter);
    const sort: Array<[string, 1 | -1]> = [...(options.sort ?? [])];
    if (!sort.some(([f]) => f === "_id")) sort.push(["_id", 1]);
    let cursor = this.col.find(filter as Record<string, unknown>).sort(sort);
    if (options.skip) cursor = cursor.skip(Math.max(0, Math.floor(options.skip)));
    if (options.limit !== undefined) {
      if (options.limit <= 0) return [];
      cursor = cursor.limit(Math.floor(options.limit));
    }
    return (await cursor.toArray()) as unknown as T[];
  }

  async findOne(filter: Filter): Promise<T | null> {
    return (await this.find(filter, { limit: 1 }))[0] ?? null;
  }

  async count(filter: Filter = {}): Promise<number> {
    checkFilter(filter);
    return this.col.countDocuments(filter as Record<string, unknown>);
  }

  async deleteMany(filter: Filter, options: WriteOptions = {}): Promise<number> {
    checkFilter(filter);
    await this.store.acceptFence(options.fence);
    return (await this.col.deleteMany(filter as Record<string, unknown>)).deletedCount;
  }

  async *scan(batchSize = 500): AsyncIterable<T[]> {
    const size = Math.max(1, Math.floor(batchSize));
    let after: string | null = null;
    for (;;) {
      const filter: Record<string, unknown> = after === null ? {} : { _id: { $gt: after } };
      const page = (await this.col.find(filter).sort({ _id: 1 }).limit(size).toArray()) as unknown as T[];
      if (page.length === 0) return;
      after = page[page.length - 1]!._id;
      yield page;
      if (page.length < size) return;
    }
  }

  async importMany(docs: readonly T[]): Promise<void> {
    if (docs.length === 0) return;
    // A restore loads into emptied collections, so one unordered insert is the fast path; the ids
    // that already exist are replaced one by one afterwards.
    const duplicates: number[] = [];
    for (const e of await this.insertUnordered(docs)) {
      if (e.code !== 11000 || e.index === undefined) throw new MongoServerError(e);
      duplicates.push(e.index);
    }
    if (duplicates.length > 0) {
      await this.col.bulkWrite(
        duplicates.map((i) => ({
          replaceOne: { filter: { _id: docs[i]!._id }, replacement: docs[i] as unknown as Raw, upsert: true },
        })),
        { ordered: false },
      );
    }
  }

  /**
   * One unordered `insert` command; answers the per-document write errors. The raw command
   * serialises the batch once, where insertMany first sizes every document to split the batch:
   * that pass and its bookkeeping cost about as much client CPU as the encoding itself (the
   * bench's 106k documents: 0.4-0.6 s of driver CPU with insertMany, 0.25-0.35 s with the
   * command). A command the server or the driver refuses as a whole (over the message bound,
   * say) goes again through insertMany, which splits it; that is safe even if part of it landed,
   * since those ids come back as duplicates and are replaced by the same documents. An outage is
   * not retried here.
   */
  private async insertUnordered(docs: readonly T[]): Promise<WriteFailure[]> {
    let reply: Document | null = null;
    try {
      reply = await this.store.runCommand({ insert: this.name, documents: docs, ordered: false });
    } catch (err) {
      if (isMongoOutage(err)) throw err;
      // refused as a whole: insertMany below splits the batch, or throws the reason itself
    }
    if (reply) {
      if (reply.writeConcernError) throw new MongoServerError(reply.writeConcernError as WriteFailure);
      return (Array.isArray(reply.writeErrors) ? reply.writeErrors : []) as WriteFailure[];
    }
    try {
      await this.col.insertMany(docs as unknown as Raw[], { ordered: false });
      return [];
    } catch (err) {
      const writeErrors = (err as { writeErrors?: unknown }).writeErrors;
      const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
      if (list.length === 0) throw err;
      return (list as Array<WriteFailure & { err?: WriteFailure }>).map((e) => ({
        ...e.err,
        code: e.code ?? e.err?.code,
        index: e.index ?? e.err?.index,
        errmsg: e.errmsg ?? e.err?.errmsg,
      }));
    }
  }
}
