import { Database, type SQLQueryBindings } from "bun:sqlite";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { AppError } from "../../core/errors.ts";
import { makePrivate } from "../../core/fs/private-modes.ts";
import { COLLECTIONS, checkCollectionName, type IndexSpec, indexesOf } from "../collections.ts";
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
import { fieldExpr, filterSql, orderSql } from "./filter-sql.ts";

export interface SqliteStoreOptions {
  /** database file; its directory is created when missing */
  file: string;
}

/**
 * The embedded store: one SQLite file in WAL mode. The connection takes SQLite's exclusive lock
 * at open and keeps it, so a second controller on the same file is refused by the OS-level lock
 * (released automatically if this process dies, unlike a pid file).
 */
export class SqliteStore implements DurableStore {
  readonly kind = "embedded" as const;
  readonly location: string;
  private readonly db: Database;
  private readonly collections = new Map<string, SqliteCollection<Doc>>();
  private closed = false;

  private constructor(file: string, db: Database) {
    this.location = file;
    this.db = db;
  }

  static open(options: SqliteStoreOptions): SqliteStore {
    mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
    const db = new Database(options.file, { create: true, strict: true });
    try {
      db.exec("PRAGMA busy_timeout = 0");
      db.exec("PRAGMA locking_mode = EXCLUSIVE");
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = NORMAL");
      // The first write takes the exclusive lock that locking_mode keeps until close.
      db.exec("BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT); COMMIT");
    } catch (err) {
      db.close();
      if (/locked|busy/i.test((err as Error).message)) {
        const owner = readOwner(options.file);
        const who = owner ? ` (pid ${owner.pid}, since ${owner.since})` : "";
        throw new AppError(
          "ILLEGAL_STATE",
          `the embedded store ${options.file} is in use by another controller${who}; the development profile runs one controller per store (use runtime.profile=production with MongoDB and Valkey for several)`,
          { file: options.file, ...owner },
        );
      }
      throw err;
    }
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("CREATE TABLE IF NOT EXISTS fences (scope TEXT PRIMARY KEY, token INTEGER NOT NULL)");
    db.exec("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    const store = new SqliteStore(options.file, db);
    for (const name of Object.keys(COLLECTIONS)) store.collection(name);
    // Only informational: the lock itself is SQLite's; this says who holds it in the refusal above.
    writeFileSync(
      `${options.file}.owner`,
      `${JSON.stringify({ pid: process.pid, since: new Date().toISOString() })}\n`,
      { mode: 0o600 },
    );
    // The database holds password hashes, sealed secrets and the audit log: owner-only, whatever
    // the umask was when SQLite created it and its WAL/SHM files.
    for (const suffix of ["", "-wal", "-shm", ".owner"]) makePrivate(`${options.file}${suffix}`);
    return store;
  }

  collection<T extends Doc>(name: string): Collection<T> {
    let col = this.collections.get(name);
    if (!col) {
      col = new SqliteCollection(this.db, checkCollectionName(name), indexesOf(name), this);
      this.collections.set(name, col);
    }
    return col as unknown as Collection<T>;
  }

  async nextSequence(name: string): Promise<number> {
    const row = this.db
      .query<{ value: number }, [string]>(
        "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
      )
      .get(name);
    return row!.value;
  }

  async fenceHighWater(scope: string): Promise<number> {
    return (
      this.db.query<{ token: number }, [string]>("SELECT token FROM fences WHERE scope = ?").get(scope)
        ?.token ?? 0
    );
  }

  /** Checks and raises the scope's high-water mark; must run inside the write's transaction. */
  acceptFence(fence: Fence | undefined): void {
    if (!fence) return;
    const highest =
      this.db.query<{ token: number }, [string]>("SELECT token FROM fences WHERE scope = ?").get(fence.scope)
        ?.token ?? 0;
    if (fence.token < highest) throw staleFence(fence.scope, fence.token, highest);
    if (fence.token > highest) {
      this.db
        .query(
          "INSERT INTO fences (scope, token) VALUES (?, ?) ON CONFLICT(scope) DO UPDATE SET token = excluded.token",
        )
        .run(fence.scope, fence.token);
    }
  }

  async listCollections(): Promise<string[]> {
    return this.db
      .query<{ name: string }, []>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'c\\_%' ESCAPE '\\' ORDER BY name",
      )
      .all()
      .map((r) => r.name.slice(2))
      .sort();
  }

  async exportInternals(): Promise<StoreInternals> {
    return {
      fences: this.db
        .query<{ scope: string; token: number }, []>("SELECT scope, token FROM fences ORDER BY scope")
        .all(),
      counters: this.db
        .query<{ name: string; value: number }, []>("SELECT name, value FROM counters ORDER BY name")
        .all(),
    };
  }

  async importInternals(internals: StoreInternals): Promise<void> {
    this.db
      .transaction(() => {
        for (const f of internals.fences) {
          this.db
            .query(
              "INSERT INTO fences (scope, token) VALUES (?, ?) ON CONFLICT(scope) DO UPDATE SET token = MAX(token, excluded.token)",
            )
            .run(f.scope, f.token);
        }
        for (const c of internals.counters) {
          this.db
            .query(
              "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)",
            )
            .run(c.name, c.value);
        }
      })
      .immediate();
  }

  async ping(): Promise<void> {
    if (this.closed) throw new AppError("STORE_UNAVAILABLE", "embedded store is closed");
    this.db.query("SELECT 1").get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

class SqliteCollection<T extends Doc> implements Collection<T> {
  readonly name: string;
  private readonly table: string;

  constructor(
    private readonly db: Database,
    name: string,
    indexes: IndexSpec[],
    private readonly store: SqliteStore,
  ) {
    this.name = name;
    this.table = `c_${name}`;
    db.exec(`CREATE TABLE IF NOT EXISTS "${this.table}" (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL)`);
    for (const index of indexes) {
      const columns = index.fields
        .map(([f, dir]) => `${fieldExpr(f)} ${dir === -1 ? "DESC" : "ASC"}`)
        .join(", ");
      // Documents without the field are not constrained, matching MongoDB's sparse unique index.
      const where = index.unique
        ? ` WHERE ${index.fields.map(([f]) => `${fieldExpr(f)} IS NOT NULL`).join(" AND ")}`
        : "";
      db.exec(
        `CREATE ${index.unique ? "UNIQUE " : ""}INDEX IF NOT EXISTS "${this.table}__${index.name}" ON "${this.table}" (${columns})${where}`,
      );
    }
  }

  private read(id: string): T | null {
    const row = this.db
      .query<{ doc: string }, [string]>(`SELECT doc FROM "${this.table}" WHERE id = ?`)
      .get(id);
    return row ? (JSON.parse(row.doc) as T) : null;
  }

  private write(doc: T, mode: "insert" | "upsert" | "update"): void {
    const json = JSON.stringify(doc);
    try {
      if (mode === "insert")
        this.db.query(`INSERT INTO "${this.table}" (id, doc) VALUES (?, ?)`).run(doc._id, json);
      else if (mode === "update")
        this.db.query(`UPDATE "${this.table}" SET doc = ? WHERE id = ?`).run(json, doc._id);
      else {
        this.db
          .query(
            `INSERT INTO "${this.table}" (id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc`,
          )
          .run(doc._id, json);
      }
    } catch (err) {
      if (/UNIQUE constraint failed/i.test((err as Error).message)) {
        throw new AppError("DUPLICATE_KEY", `${this.name}: a document with the same key already exists`, {
          collection: this.name,
          id: doc._id,
        });
      }
      throw err;
    }
  }

  private transaction<R>(fn: () => R): R {
    return this.db.transaction(fn).immediate();
  }

  async get(id: string): Promise<T | null> {
    return this.read(id);
  }

  async insert(doc: NewDoc<T>, options: WriteOptions = {}): Promise<T> {
    return this.transaction(() => {
      this.store.acceptFence(options.fence);
      const stored = stamp<T>(doc, 1, options.fence);
      this.write(stored, "insert");
      return stored;
    });
  }

  async put(doc: NewDoc<T>, options: WriteOptions = {}): Promise<T> {
    return this.transaction(() => {
      this.store.acceptFence(options.fence);
      const current = this.read(doc._id);
      const stored = stamp<T>(doc, (current?._rev ?? 0) + 1, options.fence ?? current?._fence);
      this.write(stored, "upsert");
      return stored;
    });
  }

  async update(id: string, patch: Patch<T>, options: UpdateOptions = {}): Promise<T | null> {
    return this.transaction(() => {
      const current = this.read(id);
      if (!current) return null;
      checkRev(this.name, id, current, options.ifRev);
      this.store.acceptFence(options.fence);
      const next: Record<string, unknown> = { ...current, ...stripManaged(patch as Record<string, unknown>) };
      for (const field of options.unset ?? []) delete next[field];
      const stored = stamp<T>(next as NewDoc<T>, (current._rev ?? 0) + 1, options.fence ?? current._fence);
      this.write(stored, "update");
      return stored;
    });
  }

  async delete(id: string, options: UpdateOptions = {}): Promise<boolean> {
    return this.transaction(() => {
      const current = this.read(id);
      if (!current) return false;
      checkRev(this.name, id, current, options.ifRev);
      this.store.acceptFence(options.fence);
      this.db.query(`DELETE FROM "${this.table}" WHERE id = ?`).run(id);
      return true;
    });
  }

  async find(filter: Filter = {}, options: FindOptions = {}): Promise<T[]> {
    checkFilter(filter);
    const where = filterSql(filter);
    const limit =
      options.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(options.limit))}` : " LIMIT -1";
    const offset = options.skip ? ` OFFSET ${Math.max(0, Math.floor(options.skip))}` : "";
    const rows = this.db
      .query<{ doc: string }, SQLQueryBindings[]>(
        `SELECT doc FROM "${this.table}" WHERE ${where.sql} ${orderSql(options.sort)}${limit}${offset}`,
      )
      .all(...where.params);
    return rows.map((r) => JSON.parse(r.doc) as T);
  }

  async findOne(filter: Filter): Promise<T | null> {
    return (await this.find(filter, { limit: 1 }))[0] ?? null;
  }

  async count(filter: Filter = {}): Promise<number> {
    checkFilter(filter);
    const where = filterSql(filter);
    const row = this.db
      .query<{ n: number }, SQLQueryBindings[]>(
        `SELECT COUNT(*) AS n FROM "${this.table}" WHERE ${where.sql}`,
      )
      .get(...where.params);
    return row?.n ?? 0;
  }

  async deleteMany(filter: Filter, options: WriteOptions = {}): Promise<number> {
    checkFilter(filter);
    const where = filterSql(filter);
    return this.transaction(() => {
      this.store.acceptFence(options.fence);
      return this.db.query(`DELETE FROM "${this.table}" WHERE ${where.sql}`).run(...where.params).changes;
    });
  }

  async *scan(batchSize = DEFAULT_SCAN_BATCH): AsyncIterable<T[]> {
    const size = Math.max(1, Math.floor(batchSize));
    const page = this.db.query<{ id: string; doc: string }, [string, number]>(
      `SELECT id, doc FROM "${this.table}" WHERE id > ? ORDER BY id LIMIT ?`,
    );
    let after = "";
    for (;;) {
      const rows = page.all(after, size);
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.id;
      yield rows.map((r) => JSON.parse(r.doc) as T);
      if (rows.length < size) return;
    }
  }

  async importMany(docs: readonly T[]): Promise<void> {
    if (docs.length === 0) return;
    const upsert = this.db.query(
      `INSERT INTO "${this.table}" (id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc`,
    );
    this.transaction(() => {
      for (const doc of docs) upsert.run(doc._id, JSON.stringify(doc));
    });
  }
}

/** Page size of `scan` when the caller names none. */
export const DEFAULT_SCAN_BATCH = 500;

function readOwner(file: string): { pid: number; since: string } | undefined {
  try {
    const owner = JSON.parse(readFileSync(`${file}.owner`, "utf8")) as { pid?: unknown; since?: unknown };
    return typeof owner.pid === "number" && typeof owner.since === "string"
      ? { pid: owner.pid, since: owner.since }
      : undefined;
  } catch {
    // no owner file, or one we cannot read: no owner
    return undefined;
  }
}
