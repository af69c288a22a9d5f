import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BackupService } from "../../../src/controller/backup/backup-service.ts";
import { unfinishedRestore } from "../../../src/controller/backup/restore-runner.ts";
import { AppError } from "../../../src/core/errors.ts";
import { MongoStore } from "../../../src/store/mongo/mongo-store.ts";
import type { Doc, DurableStore } from "../../../src/store/port.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { tempDir } from "../../support/adapters.ts";
import { FaultProxy } from "../../support/fault-proxy.ts";
import { mongoServer } from "../../support/servers.ts";
import { randomId, waitFor } from "../../support/wait.ts";

const mongo = await mongoServer();
const portOf = (uri: string) => Number(new URL(uri).port);

/**
 * The store going away on the wire (not a stub) while a restore loads it: the bulk inserts are
 * raw `insert` commands, and a cut connection under them must still end the restore with
 * STORE_UNAVAILABLE, leave it detectable as unfinished, and let it run again to the bundle.
 */
describe.skipIf(mongo.skip !== undefined)("restore into MongoDB while the connection is cut", () => {
  const closing: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of closing.reverse()) await c();
  });

  test("the restore fails with STORE_UNAVAILABLE, stays unfinished, and completes once the store is back", async () => {
    const root = tempDir("prexor-restore-cut-");
    const backupDir = join(root, "backups");
    const source = SqliteStore.open({ file: join(root, "source", "prexor.db") });
    closing.push(() => source.close());
    const audit = source.collection<Doc & { n: number }>("audit_log");
    // several batches (2,500 documents each), so the cut lands with the load under way
    for (let i = 0; i < 12_000; i += 1000) {
      await audit.importMany(
        Array.from({ length: 1000 }, (_, k) => ({ _id: `a-${i + k}`, _rev: 1, n: i + k })),
      );
    }
    await source.collection<Doc & { n: number }>("groups").importMany([{ _id: "lobby", _rev: 1, n: 1 }]);
    const bundle = await new BackupService({
      store: source,
      coord: null,
      root: join(root, "source"),
      backupDir,
      retentionCount: 10,
      holder: "cut-test",
      gate: null,
    }).create("mongo");

    const proxy = await FaultProxy.start(portOf(mongo.server!.uri));
    closing.push(() => proxy.stop());
    const target: DurableStore = await MongoStore.connect({
      uri: `mongodb://127.0.0.1:${proxy.port}`,
      database: randomId("cut_"),
      operationTimeoutMs: 1500,
    });
    closing.push(() => target.close());
    const restorer = new BackupService({
      store: target,
      coord: null,
      root: join(root, "target"),
      backupDir,
      retentionCount: 10,
      holder: "cut-test",
      gate: null,
    });

    let cutAt = -1;
    const failed = await restorer
      .restore(bundle.id, { dryRun: false, datastores: true, filesystem: false }, (p) => {
        if (cutAt === -1 && p.documents > 0) {
          cutAt = p.documents;
          proxy.cut();
        }
      })
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(cutAt).toBeGreaterThan(0);
    expect(cutAt).toBeLessThan(12_001);
    expect(failed).toBeInstanceOf(AppError);
    expect((failed as AppError).code).toBe("STORE_UNAVAILABLE");

    proxy.heal();
    // the store's breaker fails calls fast for a moment after the outage; the journal is still there
    const unfinished = await waitFor(() => unfinishedRestore(target).catch(() => undefined), {
      timeoutMs: 10_000,
      what: "the store to answer again",
    });
    expect(unfinished?.bundle).toBe(bundle.id);

    // run again as an operator would: a 503 just after the outage (the breaker) means retry
    const report = await waitFor(
      () =>
        restorer
          .restore(bundle.id, { dryRun: false, datastores: true, filesystem: false })
          .catch((err: unknown) => {
            if ((err as AppError).code === "STORE_UNAVAILABLE") return undefined;
            throw err;
          }),
      { timeoutMs: 20_000, what: "the restore to run again to the end" },
    );
    expect(report.datastores.documents).toBe(12_001);
    expect(await unfinishedRestore(target)).toBeNull();
    expect(await target.collection("audit_log").count()).toBe(12_000);
    expect(await target.collection("groups").get("lobby")).toMatchObject({ n: 1 });
  }, 60_000);
});
