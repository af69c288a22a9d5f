import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";

interface AppliedPlan {
  readonly planHash: string;
  readonly instanceId: string;
  readonly appliedAtMs: number;
}

interface StateFile {
  readonly version: 1;
  readonly applied: readonly AppliedPlan[];
}

/**
 * Plan hashes this node has started a process for, persisted so that a re-dispatch after a
 * controller takeover or a daemon restart is recognised and never starts a second process. A hash
 * covers the instance id, so old entries only matter for as long as a controller may re-send them;
 * the oldest are dropped past `limit`.
 */
export class AppliedPlanStore {
  private readonly byHash = new Map<string, AppliedPlan>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly limit: number,
  ) {}

  static async open(file: string, limit = 5000): Promise<AppliedPlanStore> {
    const store = new AppliedPlanStore(file, limit);
    const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    if (text !== undefined) {
      const state = JSON.parse(text) as StateFile;
      for (const entry of state.applied ?? []) store.byHash.set(entry.planHash, entry);
    }
    return store;
  }

  has(planHash: string): boolean {
    return this.byHash.has(planHash);
  }

  instanceOf(planHash: string): string | undefined {
    return this.byHash.get(planHash)?.instanceId;
  }

  /** Records the hash and resolves once it is durably on disk. */
  record(planHash: string, instanceId: string, nowMs: number): Promise<void> {
    this.byHash.delete(planHash);
    this.byHash.set(planHash, { planHash, instanceId, appliedAtMs: nowMs });
    while (this.byHash.size > this.limit) this.byHash.delete(this.byHash.keys().next().value!);
    return this.save();
  }

  /** Undoes a record whose process never came to exist (the spawn itself failed). */
  forget(planHash: string): Promise<void> {
    return this.byHash.delete(planHash) ? this.save() : Promise.resolve();
  }

  private save(): Promise<void> {
    const state: StateFile = { version: 1, applied: [...this.byHash.values()] };
    // Writes are chained so an older snapshot can never land after a newer one.
    this.writing = this.writing.catch(() => undefined).then(() => this.persist(state));
    return this.writing;
  }

  private async persist(state: StateFile): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp-${process.pid}`;
    const handle = await open(temporary, "w");
    try {
      await handle.writeFile(`${JSON.stringify(state)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.file);
  }
}
