import { afterEach, describe, expect, test } from "bun:test";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { BackupService } from "../../../src/controller/backup/backup-service.ts";
import { BUNDLE_FORMAT } from "../../../src/controller/backup/bundle-format.ts";
import { unfinishedRestore } from "../../../src/controller/backup/restore-runner.ts";
import { gatedStore, WriteHold } from "../../../src/controller/backup/write-hold.ts";
import { resolveForwardingSecret } from "../../../src/controller/networks/forwarding-secret.ts";
import { MemoryCoordination } from "../../../src/coord/memory/memory-coordination.ts";
import { AppError } from "../../../src/core/errors.ts";
import type { Collection, Doc, DurableStore } from "../../../src/store/port.ts";
import { storeAdapters, tempDir } from "../../support/adapters.ts";
import { waitFor } from "../../support/wait.ts";

interface G extends Doc {
  n: number;
}

async function seed(store: DurableStore, root: string) {
  const groups = store.collection<G>("groups");
  for (let i = 0; i < 30; i++)
    await groups.insert({ _id: `g${i}`, n: i }, { fence: { scope: `group-config:g${i}`, token: 3 } });
  await store.collection<Doc & { role: string }>("users").insert({ _id: "admin", role: "ADMIN" });
  await store.collection<Doc & { at: number }>("audit_log").insert({ _id: "a1", at: 1 });
  await store.nextSequence("deployment_id");
  mkdirSync(join(root, "templates", "lobby", "abc"), { recursive: true });
  writeFileSync(join(root, "templates", "lobby", "abc", "server.properties"), "motd=hi\n");
  mkdirSync(join(root, "config", "security"), { recursive: true });
  writeFileSync(
    join(root, "config", "controller.yml"),
    "security:\n  jwtSecret: s3cret\ndatabase:\n  uri: mongodb://u:pw@h/db\n",
  );
  writeFileSync(join(root, "config", "security", "cluster-secret"), "sealing-key\n", { mode: 0o600 });
}

async function dump(store: DurableStore): Promise<Record<string, Doc[]>> {
  const out: Record<string, Doc[]> = {};
  for (const name of await store.listCollections()) {
    if (name === "restore_journal") continue;
    const docs: Doc[] = [];
    for await (const page of store.collection<Doc>(name).scan(100)) docs.push(...page);
    if (docs.length > 0) out[name] = docs;
  }
  return out;
}

async function expectCode(p: Promise<unknown>, code: string): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect((err as AppError).code).toBe(code as AppError["code"]);
    return err as AppError;
  }
  throw new Error(`expected ${code}`);
}

for (const adapter of await storeAdapters()) {
  describe.skipIf(Boolean(adapter.skip))(`backup bundle on ${adapter.name}`, () => {
    const open: DurableStore[] = [];
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
    });
    const setup = async () => {
      const store = await adapter.open();
      open.push(store);
      const root = tempDir("prexor-backup-");
      const coord = new MemoryCoordination();
      const gate = new WriteHold();
      const service = new BackupService({
        store,
        coord,
        root,
        backupDir: join(root, "backups"),
        retentionCount: 10,
        holder: "ctl-test",
        gate,
      });
      await seed(store, root);
      return { store, root, coord, gate, service, gated: gatedStore(store, gate) };
    };

    test("a full bundle verifies and a restore brings back the store, files and coordination", async () => {
      const { store, root, coord, service } = await setup();
      await coord.revoke("jwt", "old-jti", 60_000);
      // The cluster's forwarding secret, sealed in cluster_meta under the cluster secret (the file
      // the full bundle carries too), like the CA.
      const forwarding = await resolveForwardingSecret(store, "sealing-key", { scryptLogN: 10 });
      const before = await dump(store);
      const manifest = await service.create("full");
      const metaLines = readFileSync(join(root, "backups", manifest.id, "store/cluster_meta.ndjson"), "utf8");
      expect(metaLines).toContain('"_id":"forwarding-secret"');
      expect(metaLines).not.toContain(forwarding);
      expect(manifest.format).toBe(BUNDLE_FORMAT);
      expect(manifest.collections.find((c) => c.name === "groups")?.documents).toBe(30);
      expect(manifest.files.map((f) => f.path)).toContain("files/templates/lobby/abc/server.properties");
      const config = readFileSync(join(root, "backups", manifest.id, "files/config/controller.yml"), "utf8");
      expect(config).not.toContain("s3cret");
      expect(config).not.toContain(":pw@");
      expect(service.list().map((b) => b.id)).toEqual([manifest.id]);
      expect((await service.verify(manifest.id)).valid).toBe(true);

      // the loss
      for (const name of await store.listCollections()) await store.collection(name).deleteMany({});
      rmSync(join(root, "templates"), { recursive: true });
      const fresh = new MemoryCoordination();
      const restoring = new BackupService({
        store,
        coord: fresh,
        root,
        backupDir: join(root, "backups"),
        retentionCount: 10,
        holder: "ctl-test",
        gate: null,
      });
      const dry = await restoring.restore(manifest.id, { dryRun: true, datastores: true, filesystem: true });
      expect(dry.dryRun).toBe(true);
      expect(await store.collection("groups").count()).toBe(0);
      expect(existsSync(join(root, "templates"))).toBe(false);

      const report = await restoring.restore(manifest.id, {
        dryRun: false,
        datastores: true,
        filesystem: true,
      });
      expect(report.datastores.applied).toBe(true);
      expect(report.filesystem.applied).toBe(true);
      expect(readFileSync(join(root, "templates/lobby/abc/server.properties"), "utf8")).toBe("motd=hi\n");
      const after = await dump(store);
      // users come back with every earlier token revoked; everything else verbatim
      const users = after.users!.map(({ tokensValidAfter, ...u }: Doc & { tokensValidAfter?: number }) => {
        expect(tokensValidAfter).toBe(report.tokensValidAfter!);
        return u;
      });
      expect({ ...after, users } as Record<string, Doc[]>).toEqual(before);
      expect(await store.fenceHighWater("group-config:g1")).toBe(3);
      expect(await fresh.isRevoked("jwt", "old-jti")).toBe(true);
      expect(await store.nextSequence("deployment_id")).toBe(2);
      expect(await unfinishedRestore(store)).toBeNull();
      // The restored cluster hands its instances the same forwarding secret, unsealed with the
      // restored cluster secret.
      const secretFile = readFileSync(join(root, "config/security/cluster-secret"), "utf8").trim();
      expect(await resolveForwardingSecret(store, secretFile, { scryptLogN: 10 })).toBe(forwarding);
    });

    test("flipped byte, missing file, truncated NDJSON and a newer format: verify fails, restore is 422 naming the file and changes nothing", async () => {
      const { store, root, service } = await setup();
      const cases: Array<[string, (dir: string) => void]> = [
        [
          "store/groups.ndjson",
          (dir) => {
            const p = join(dir, "store/groups.ndjson");
            const b = readFileSync(p);
            b[10] = b[10]! ^ 1;
            writeFileSync(p, b);
          },
        ],
        [
          "files/templates/lobby/abc/server.properties",
          (dir) => rmSync(join(dir, "files/templates/lobby/abc/server.properties")),
        ],
        [
          "store/audit_log.ndjson",
          (dir) => {
            const p = join(dir, "store/audit_log.ndjson");
            truncateSync(p, readFileSync(p).length - 3);
          },
        ],
        [
          "manifest.json",
          (dir) => {
            const p = join(dir, "manifest.json");
            writeFileSync(
              p,
              JSON.stringify({ ...JSON.parse(readFileSync(p, "utf8")), format: BUNDLE_FORMAT + 1 }),
            );
          },
        ],
      ];
      for (const [file, corrupt] of cases) {
        const m = await service.create("full");
        corrupt(join(root, "backups", m.id));
        const v = await service.verify(m.id);
        expect(v.valid).toBe(false);
        expect(v.problems.map((p) => p.file)).toContain(file);
        await store.collection<G>("groups").put({ _id: "marker", n: 1 });
        const before = await dump(store);
        const err = await expectCode(
          service.restore(m.id, { dryRun: false, datastores: true, filesystem: true }),
          "RESTORE_REJECTED",
        );
        expect(err.message).toContain(file);
        expect(err.details?.file).toBe(file);
        expect(await dump(store)).toEqual(before);
        await store.collection("groups").delete("marker");
        service.delete(m.id);
      }
    });

    test("restore answers 409 while a node drain is in progress", async () => {
      const { store, service } = await setup();
      const m = await service.create("mongo");
      await store
        .collection<Doc & { state: string }>("workflow_drains")
        .insert({ _id: "node-1", state: "IN_PROGRESS" });
      await expectCode(
        service.restore(m.id, { dryRun: false, datastores: true, filesystem: false }),
        "CONFLICT",
      );
    });

    test("backup while 8 writers create groups holds exactly the writes acknowledged before the cut", async () => {
      const { store, gated, service, root } = await setup();
      const acked: Array<{ id: string; at: number }> = [];
      const started: Array<{ id: string; at: number }> = [];
      let stop = false;
      const writers = Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; !stop && i < 400; i++) {
          const id = `w${w}-${i}`;
          started.push({ id, at: performance.now() });
          await gated.collection<G>("groups").insert({ _id: id, n: i });
          acked.push({ id, at: performance.now() });
        }
      });
      await waitFor(() => acked.length >= 40, {
        timeoutMs: 30_000,
        intervalMs: 1,
        what: "writes acknowledged before the backup",
      });
      let cutAt = 0;
      const m = await service.create("mongo", (p) => {
        if (cutAt === 0 && p.phase === "store") cutAt = performance.now();
      });
      const cutWall = performance.now();
      stop = true;
      await Promise.all(writers);
      const lines = readFileSync(join(join(root, "backups"), m.id, "store/groups.ndjson"), "utf8")
        .trim()
        .split("\n");
      const inBundle = new Set(lines.map((l) => (JSON.parse(l) as Doc)._id));
      // every write acknowledged before the backup started reading is in; none started after it finished is
      for (const a of acked) if (a.at < cutAt) expect(inBundle.has(a.id)).toBe(true);
      for (const s of started) if (s.at > cutWall) expect(inBundle.has(s.id)).toBe(false);
      // and the bundle is a state that existed: per writer, a prefix of its sequence
      for (let w = 0; w < 8; w++) {
        const mine = [...inBundle]
          .filter((id) => id.startsWith(`w${w}-`))
          .map((id) => Number(id.split("-")[1]));
        expect(mine.sort((a, b) => a - b)).toEqual(mine.map((_, i) => i));
      }
      expect(await store.collection("groups").count()).toBeGreaterThan(inBundle.size - 1);
      // restoring it brings back exactly that state: the writes after the cut are gone again
      await service.restore(m.id, { dryRun: false, datastores: true, filesystem: false });
      const restored = new Set<string>();
      for await (const page of store.collection<Doc>("groups").scan())
        for (const d of page) restored.add(d._id);
      expect([...restored].sort()).toEqual([...inBundle].sort());
    });

    test("Redis going away: a backup fails leaving nothing, a restore stops at the coordination step and re-runs", async () => {
      const { store, root, coord, service } = await setup();
      const backupDir = join(root, "backups");
      const gone = new Proxy(coord, {
        get(target, prop, receiver) {
          if (prop === "exportState" || prop === "importState") {
            return async () => {
              throw new AppError("COORDINATION_UNAVAILABLE", "redis went away");
            };
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      const during = new BackupService({
        store,
        coord: gone,
        root,
        backupDir,
        retentionCount: 10,
        holder: "x",
        gate: null,
      });
      await expectCode(during.create("full"), "COORDINATION_UNAVAILABLE");
      expect(existsSync(backupDir) ? readdirSync(backupDir) : []).toEqual([]);
      const good = await service.create("full");
      await expectCode(
        during.restore(good.id, { dryRun: false, datastores: true, filesystem: false }),
        "COORDINATION_UNAVAILABLE",
      );
      expect((await unfinishedRestore(store))?.phase).toBe("coordination");
      await service.restore(good.id, { dryRun: false, datastores: true, filesystem: false });
      expect(await unfinishedRestore(store)).toBeNull();
    }, 30_000);

    test("the store going away mid-backup leaves no bundle; a restore that dies half-way is detected and re-runs", async () => {
      const { store, root, service } = await setup();
      const failing = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === "collection") {
            return (name: string) => {
              const col = target.collection(name);
              return new Proxy(col, {
                get(c, p, r) {
                  if (p === "scan" && name === "groups") {
                    return async function* () {
                      yield [] as Doc[];
                      throw new AppError("STORE_UNAVAILABLE", "store went away");
                    };
                  }
                  const v = Reflect.get(c, p, r);
                  return typeof v === "function" ? v.bind(c) : v;
                },
              }) as Collection<Doc>;
            };
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      const backupDir = join(root, "backups");
      const broken = new BackupService({
        store: failing,
        coord: null,
        root,
        backupDir,
        retentionCount: 10,
        holder: "x",
        gate: null,
      });
      await expectCode(broken.create("full"), "STORE_UNAVAILABLE");
      expect(existsSync(backupDir) ? readdirSync(backupDir) : []).toEqual([]);

      const good = await service.create("mongo");
      // A killed backup leaves a .partial directory: never listed, never verifies.
      mkdirSync(join(backupDir, "20200101-000000.partial"));
      appendFileSync(join(backupDir, "20200101-000000.partial", "x"), "half");
      expect(service.list().map((b) => b.id)).toEqual([good.id]);

      let imports = 0;
      const dying = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === "collection") {
            return (name: string) => {
              const col = target.collection(name);
              return new Proxy(col, {
                get(c, p, r) {
                  if (p === "importMany") {
                    return async (docs: Doc[]) => {
                      if (++imports === 2) throw new AppError("STORE_UNAVAILABLE", "store went away");
                      return c.importMany(docs);
                    };
                  }
                  const v = Reflect.get(c, p, r);
                  return typeof v === "function" ? v.bind(c) : v;
                },
              }) as Collection<Doc>;
            };
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      const before = await dump(store);
      const half = new BackupService({
        store: dying,
        coord: null,
        root,
        backupDir,
        retentionCount: 10,
        holder: "x",
        gate: null,
      });
      await expectCode(
        half.restore(good.id, { dryRun: false, datastores: true, filesystem: false }),
        "STORE_UNAVAILABLE",
      );
      expect((await unfinishedRestore(store))?.bundle).toBe(good.id);
      await service.restore(good.id, { dryRun: false, datastores: true, filesystem: false });
      expect(await unfinishedRestore(store)).toBeNull();
      const after = await dump(store);
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
      expect(after.groups).toEqual(before.groups);
    });
  });
}
