import { afterEach, describe, expect, test } from "bun:test";
import { AppError } from "../../src/core/errors.ts";
import type { Doc, DurableStore } from "../../src/store/port.ts";
import { storeAdapters } from "../support/adapters.ts";

interface Item extends Doc {
  group: string;
  node?: string;
  state: string;
  n: number;
  createdAt: number;
  label?: string | null;
}

interface User extends Doc {
  email?: string;
  role: string;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe(code as AppError["code"]);
    return err as AppError;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

for (const adapter of await storeAdapters()) {
  describe.skipIf(Boolean(adapter.skip))(`store contract: ${adapter.name}`, () => {
    const open: DurableStore[] = [];
    const fresh = async () => {
      const store = await adapter.open();
      open.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of open.splice(0)) await store.close();
    });

    test("insert, get, update, put and delete round-trip and count revisions", async () => {
      const items = (await fresh()).collection<Item>("instances");
      const inserted = await items.insert({ _id: "a", group: "lobby", state: "RUNNING", n: 1, createdAt: 1 });
      expect(inserted._rev).toBe(1);
      expect(await items.get("a")).toEqual(inserted);
      const updated = await items.update("a", { n: 2, label: "x" });
      expect(updated).toMatchObject({ _id: "a", n: 2, label: "x", group: "lobby", _rev: 2 });
      const unset = await items.update("a", {}, { unset: ["label"] });
      expect(unset?.label).toBeUndefined();
      expect(unset?._rev).toBe(3);
      const replaced = await items.put({ _id: "a", group: "bedwars", state: "STOPPED", n: 9, createdAt: 2 });
      expect(replaced._rev).toBe(4);
      expect(await items.get("a")).toMatchObject({ group: "bedwars", n: 9 });
      expect(await items.update("missing", { n: 1 })).toBeNull();
      expect(await items.delete("a")).toBe(true);
      expect(await items.delete("a")).toBe(false);
      expect(await items.get("a")).toBeNull();
    });

    test("put creates a document that does not exist yet", async () => {
      const items = (await fresh()).collection<Item>("instances");
      const created = await items.put({ _id: "p", group: "g", state: "S", n: 0, createdAt: 0 });
      expect(created._rev).toBe(1);
      expect(await items.count()).toBe(1);
    });

    test("a duplicate _id is refused with DUPLICATE_KEY and the original is kept", async () => {
      const items = (await fresh()).collection<Item>("instances");
      await items.insert({ _id: "a", group: "g1", state: "S", n: 1, createdAt: 1 });
      await expectCode(
        items.insert({ _id: "a", group: "g2", state: "S", n: 2, createdAt: 1 }),
        "DUPLICATE_KEY",
      );
      expect((await items.get("a"))?.group).toBe("g1");
    });

    test("unique indexes reject a second document with the same value but not documents without it", async () => {
      const users = (await fresh()).collection<User>("users");
      await users.insert({ _id: "alice", email: "a@example.org", role: "ADMIN" });
      await expectCode(users.insert({ _id: "bob", email: "a@example.org", role: "VIEWER" }), "DUPLICATE_KEY");
      await users.insert({ _id: "carol", role: "VIEWER" });
      await users.insert({ _id: "dave", role: "VIEWER" });
      await users.insert({ _id: "bob", email: "b@example.org", role: "VIEWER" });
      await expectCode(users.update("bob", { email: "a@example.org" }), "DUPLICATE_KEY");
      expect((await users.get("bob"))?.email).toBe("b@example.org");
      expect(await users.count()).toBe(4);
    });

    test("deployments: one record per (group, revision), newest revision first, active ones by state", async () => {
      const store = await fresh();
      interface Dep extends Doc {
        seqId: number;
        groupName: string;
        revision: number;
        state: string;
        createdAt: number;
      }
      const deps = store.collection<Dep>("deployments");
      for (const [group, revision, state] of [
        ["lobby", 1, "COMPLETED"],
        ["lobby", 2, "ROLLED_BACK"],
        ["lobby", 3, "IN_PROGRESS"],
        ["bedwars", 1, "PAUSED"],
      ] as const) {
        const seqId = await store.nextSequence("deployment_id");
        await deps.insert({
          _id: `${group}:${revision}`,
          seqId,
          groupName: group,
          revision,
          state,
          createdAt: seqId,
        });
      }
      // The same revision under another _id still collides on the (groupName, revision) index.
      await expectCode(
        deps.insert({
          _id: "lobby:3b",
          seqId: 99,
          groupName: "lobby",
          revision: 3,
          state: "IN_PROGRESS",
          createdAt: 9,
        }),
        "DUPLICATE_KEY",
      );
      const newest = await deps.find({ groupName: "lobby" }, { sort: [["revision", -1]], limit: 1 });
      expect(newest.map((d) => d.revision)).toEqual([3]);
      const active = await deps.find(
        { state: { $in: ["IN_PROGRESS", "PAUSED"] } },
        { sort: [["createdAt", 1]], limit: 50 },
      );
      expect(active.map((d) => d._id)).toEqual(["lobby:3", "bedwars:1"]);
      expect(await deps.count({ groupName: "lobby", revision: { $lt: 3 }, state: "COMPLETED" })).toBe(1);
      const heads = store.collection<Doc & { revision: number }>("deployment_heads");
      await heads.put({ _id: "lobby", revision: 3 });
      expect((await heads.get("lobby"))?.revision).toBe(3);
      expect(await store.listCollections()).toContain("deployment_heads");
    });

    test("queries by group, node and state with operators, sorting and paging", async () => {
      const items = (await fresh()).collection<Item>("instances");
      const states = ["RUNNING", "STARTING", "STOPPED"];
      for (let i = 0; i < 30; i++) {
        await items.insert({
          _id: `i${String(i).padStart(2, "0")}`,
          group: i % 2 === 0 ? "lobby" : "bedwars",
          node: `node-${i % 3}`,
          state: states[i % 3]!,
          n: i,
          createdAt: 1000 + i,
          ...(i % 5 === 0 ? { label: "five" } : {}),
        });
      }
      expect(await items.count({ group: "lobby" })).toBe(15);
      expect(await items.count({ node: "node-1", state: "STARTING" })).toBe(10);
      expect(await items.count({ state: { $in: ["RUNNING", "STOPPED"] } })).toBe(20);
      expect(await items.count({ state: { $nin: ["RUNNING"] } })).toBe(20);
      expect(await items.count({ n: { $gte: 10, $lt: 20 } })).toBe(10);
      expect(await items.count({ label: { $exists: true } })).toBe(6);
      expect(await items.count({ label: { $exists: false } })).toBe(24);
      expect(await items.count({ label: { $ne: "five" } })).toBe(24);
      expect(await items.count({ $or: [{ n: 0 }, { n: 29 }, { group: "nope" }] })).toBe(2);
      // a string never compares as greater than a number
      expect(await items.count({ group: { $gt: 5 } })).toBe(0);

      const page1 = await items.find({ group: "lobby" }, { sort: [["createdAt", -1]], limit: 4 });
      const page2 = await items.find({ group: "lobby" }, { sort: [["createdAt", -1]], limit: 4, skip: 4 });
      expect(page1.map((d) => d.n)).toEqual([28, 26, 24, 22]);
      expect(page2.map((d) => d.n)).toEqual([20, 18, 16, 14]);
      const byState = await items.find({}, { sort: [["state", 1]], limit: 3 });
      expect(byState.map((d) => d._id)).toEqual(["i00", "i03", "i06"]);
      expect((await items.findOne({ node: "node-2", n: { $gt: 20 } }))?._id).toBe("i23");
      expect(await items.find({ group: "lobby" }, { limit: 0 })).toEqual([]);
    });

    test("filters with unknown operators or unsafe field names are refused before reaching the store", async () => {
      const items = (await fresh()).collection<Item>("instances");
      await expectCode(items.find({ "n'); DROP TABLE x; --": 1 }), "INVALID_ARGUMENT");
      await expectCode(items.find({ n: { $where: "1" } as never }), "INVALID_ARGUMENT");
    });

    test("optimistic concurrency: an update with a stale revision is refused with CONFLICT", async () => {
      const items = (await fresh()).collection<Item>("instances");
      const doc = await items.insert({ _id: "a", group: "g", state: "S", n: 0, createdAt: 0 });
      await items.update("a", { n: 1 }, { ifRev: doc._rev! });
      await expectCode(items.update("a", { n: 99 }, { ifRev: doc._rev! }), "CONFLICT");
      await expectCode(items.delete("a", { ifRev: doc._rev! }), "CONFLICT");
      expect((await items.get("a"))?.n).toBe(1);
    });

    test("concurrent writers: compare-and-set increments lose no update", async () => {
      const store = await fresh();
      const items = store.collection<Item>("instances");
      await items.insert({ _id: "ctr", group: "g", state: "S", n: 0, createdAt: 0 });
      const writers = 20;
      await Promise.all(
        Array.from({ length: writers }, async () => {
          for (let attempt = 0; attempt < 200; attempt++) {
            const current = (await items.get("ctr"))!;
            try {
              await items.update("ctr", { n: current.n + 1 }, { ifRev: current._rev! });
              return;
            } catch (err) {
              if (!(err instanceof AppError && err.code === "CONFLICT")) throw err;
            }
          }
          throw new Error("writer gave up");
        }),
      );
      const final = (await items.get("ctr"))!;
      expect(final.n).toBe(writers);
      expect(final._rev).toBe(writers + 1);
    });

    test("concurrent writers: one of many racing inserts of one id wins; sequences never repeat", async () => {
      const store = await fresh();
      const items = store.collection<Item>("instances");
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          items.insert({ _id: "race", group: `g${i}`, state: "S", n: i, createdAt: 0 }),
        ),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of results) {
        if (r.status === "rejected") expect((r.reason as AppError).code).toBe("DUPLICATE_KEY");
      }
      const seqs = await Promise.all(Array.from({ length: 40 }, () => store.nextSequence("deployment_id")));
      expect(new Set(seqs).size).toBe(40);
      expect(Math.min(...seqs)).toBe(1);
      expect(Math.max(...seqs)).toBe(40);
    });

    test("fenced writes: once a newer token is accepted for a scope, older tokens are refused and change nothing", async () => {
      const store = await fresh();
      const groups = store.collection<Item>("groups");
      const scope = "group:lobby";
      await groups.insert(
        { _id: "lobby", group: "lobby", state: "A", n: 1, createdAt: 0 },
        { fence: { scope, token: 1 } },
      );
      await groups.update("lobby", { n: 2 }, { fence: { scope, token: 1 } });
      expect(await store.fenceHighWater(scope)).toBe(1);
      await groups.update("lobby", { state: "B", n: 3 }, { fence: { scope, token: 2 } });
      expect(await store.fenceHighWater(scope)).toBe(2);

      const stale = await expectCode(
        groups.update("lobby", { state: "STALE" }, { fence: { scope, token: 1 } }),
        "STALE_FENCING_TOKEN",
      );
      expect(stale.details).toMatchObject({ scope, token: 1, highest: 2 });
      await expectCode(
        groups.put(
          { _id: "lobby", group: "x", state: "STALE", n: 0, createdAt: 0 },
          { fence: { scope, token: 1 } },
        ),
        "STALE_FENCING_TOKEN",
      );
      await expectCode(
        groups.insert(
          { _id: "other", group: "x", state: "STALE", n: 0, createdAt: 0 },
          { fence: { scope, token: 1 } },
        ),
        "STALE_FENCING_TOKEN",
      );
      await expectCode(groups.delete("lobby", { fence: { scope, token: 1 } }), "STALE_FENCING_TOKEN");
      await expectCode(groups.deleteMany({}, { fence: { scope, token: 1 } }), "STALE_FENCING_TOKEN");

      const after = (await groups.get("lobby"))!;
      expect(after).toMatchObject({ state: "B", n: 3, _fence: { scope, token: 2 } });
      expect(await groups.get("other")).toBeNull();
      // other scopes are independent
      await groups.insert(
        { _id: "bedwars", group: "bedwars", state: "A", n: 0, createdAt: 0 },
        { fence: { scope: "group:bedwars", token: 1 } },
      );
      expect(await store.fenceHighWater("group:bedwars")).toBe(1);
    });

    test("fenced writes: one document written under alternating scopes (group, node) keeps each scope's check", async () => {
      const store = await fresh();
      const instances = store.collection<Item>("instances");
      const group = "group:lobby";
      const node = "node:node-a";
      await instances.insert(
        { _id: "lobby-1", group: "lobby", state: "PREPARING", n: 0, createdAt: 0 },
        { fence: { scope: group, token: 5 } },
      );
      // a lower token of another scope is not compared with the document's last (group) fence
      await instances.update("lobby-1", { state: "RUNNING", n: 1 }, { fence: { scope: node, token: 1 } });
      await instances.update("lobby-1", { n: 2 }, { fence: { scope: node, token: 2 } });
      await instances.update("lobby-1", { state: "DRAINING" }, { fence: { scope: group, token: 5 } });
      expect(await instances.get("lobby-1")).toMatchObject({
        state: "DRAINING",
        n: 2,
        _fence: { scope: group, token: 5 },
      });
      // the node scope's high-water mark still refuses the older node session
      await expectCode(
        instances.update("lobby-1", { n: 99 }, { fence: { scope: node, token: 1 } }),
        "STALE_FENCING_TOKEN",
      );
      await expectCode(
        instances.update("lobby-1", { n: 98 }, { fence: { scope: group, token: 4 } }),
        "STALE_FENCING_TOKEN",
      );
      await instances.update("lobby-1", { n: 3 }, { fence: { scope: node, token: 2 } });
      expect(await instances.get("lobby-1")).toMatchObject({
        state: "DRAINING",
        n: 3,
        _fence: { scope: node, token: 2 },
      });
      expect(await store.fenceHighWater(node)).toBe(2);
      expect(await store.fenceHighWater(group)).toBe(5);
    });

    test("fenced writes: concurrent writers with different tokens never let an older token overwrite a newer one", async () => {
      const store = await fresh();
      const groups = store.collection<Item>("groups");
      const scope = "group:race";
      await groups.insert({ _id: "race", group: "race", state: "init", n: 0, createdAt: 0 });
      const tokens = Array.from({ length: 16 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
      const outcomes = await Promise.allSettled(
        tokens.map((token) =>
          groups.update("race", { n: token, state: `t${token}` }, { fence: { scope, token } }),
        ),
      );
      for (const o of outcomes) {
        if (o.status === "rejected")
          expect(["STALE_FENCING_TOKEN", "CONFLICT"]).toContain((o.reason as AppError).code);
      }
      const final = (await groups.get("race"))!;
      // The highest token always gets through (nothing newer can refuse it), so it must be the last word.
      expect(final.n).toBe(16);
      expect(final._fence).toEqual({ scope, token: 16 });
      expect(await store.fenceHighWater(scope)).toBe(16);
    });

    test("retention pruning removes exactly the documents older than the cut-off", async () => {
      const audit = (await fresh()).collection<Item>("audit_log");
      for (let i = 0; i < 10; i++)
        await audit.insert({ _id: `e${i}`, group: "g", state: "S", n: i, createdAt: i * 100 });
      expect(await audit.deleteMany({ createdAt: { $lt: 500 } })).toBe(5);
      expect((await audit.find({}, { sort: [["createdAt", 1]] })).map((d) => d.n)).toEqual([5, 6, 7, 8, 9]);
    });

    test("scan pages every document in _id order, verbatim, one page at a time", async () => {
      const store = await fresh();
      const items = store.collection<Item>("instances");
      for (let i = 0; i < 23; i++) {
        await items.insert(
          { _id: `i${String(i).padStart(3, "0")}`, group: "g", state: "S", n: i, createdAt: i },
          { fence: { scope: "scan", token: i + 1 } },
        );
      }
      await items.update("i005", { n: 500 });
      const pages: Item[][] = [];
      for await (const page of items.scan(5)) pages.push(page);
      expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
      const all = pages.flat();
      expect(all.map((d) => d._id)).toEqual([...all.map((d) => d._id)].sort());
      expect(all).toHaveLength(23);
      expect(all.find((d) => d._id === "i005")).toEqual((await items.get("i005"))!);
      expect(all[3]!._fence).toEqual({ scope: "scan", token: 4 });
      const empty: Item[][] = [];
      for await (const page of store.collection<Item>("crashes").scan(5)) empty.push(page);
      expect(empty).toEqual([]);
    });

    test("importMany writes documents verbatim (revision and fence kept) and replaces same ids", async () => {
      const store = await fresh();
      const groups = store.collection<Item>("groups");
      await groups.insert({ _id: "a", group: "old", state: "S", n: 0, createdAt: 0 });
      const docs = [
        { _id: "a", group: "g", state: "S", n: 1, createdAt: 1, _rev: 7, _fence: { scope: "x", token: 9 } },
        { _id: "b", group: "g", state: "S", n: 2, createdAt: 2, _rev: 3 },
      ] as Item[];
      await groups.importMany(docs);
      expect(await groups.get("a")).toEqual(docs[0]!);
      expect(await groups.get("b")).toEqual(docs[1]!);
      expect((await groups.update("a", { n: 5 }))?._rev).toBe(8);
    });

    test("importMany refuses documents that break a unique index (a restore does not load them)", async () => {
      const users = (await fresh()).collection<User>("users");
      const load = users.importMany([
        { _id: "alice", email: "a@example.org", role: "ADMIN", _rev: 1 },
        { _id: "bob", email: "a@example.org", role: "VIEWER", _rev: 1 },
      ] as User[]);
      await expect(load).rejects.toThrow();
      expect((await users.find({ email: "a@example.org" })).length).toBeLessThanOrEqual(1);
    });

    test("importMany loads a batch larger than one store command (20 × 1 MiB)", async () => {
      const groups = (await fresh()).collection<Item>("groups");
      const blob = "x".repeat(1 << 20);
      const docs = Array.from(
        { length: 20 },
        (_, i) =>
          ({ _id: `big-${i}`, group: "g", state: "S", n: i, createdAt: i, label: blob, _rev: 1 }) as Item,
      );
      await groups.importMany(docs);
      expect(await groups.count()).toBe(20);
      expect((await groups.get("big-19"))?.label?.length).toBe(1 << 20);
      // and again over itself: every id is a duplicate, replaced by the same document
      await groups.importMany(docs);
      expect(await groups.count()).toBe(20);
    });

    test("internals export and import: fences and counters are raised, never lowered", async () => {
      const source = await fresh();
      await source
        .collection<Item>("groups")
        .insert(
          { _id: "a", group: "g", state: "S", n: 1, createdAt: 1 },
          { fence: { scope: "group-config:a", token: 12 } },
        );
      for (let i = 0; i < 4; i++) await source.nextSequence("deployment_id");
      const internals = await source.exportInternals();
      expect(internals.fences).toContainEqual({ scope: "group-config:a", token: 12 });
      expect(internals.counters).toContainEqual({ name: "deployment_id", value: 4 });
      expect(await source.listCollections()).toContain("groups");
      expect(await source.listCollections()).not.toContain("fences");

      const target = await fresh();
      await target
        .collection<Item>("groups")
        .insert(
          { _id: "z", group: "g", state: "S", n: 1, createdAt: 1 },
          { fence: { scope: "group-config:z", token: 40 } },
        );
      await target.importInternals({
        fences: [...internals.fences, { scope: "group-config:z", token: 3 }],
        counters: internals.counters,
      });
      expect(await target.fenceHighWater("group-config:a")).toBe(12);
      expect(await target.fenceHighWater("group-config:z")).toBe(40);
      expect(await target.nextSequence("deployment_id")).toBe(5);
      await expectCode(
        target
          .collection<Item>("groups")
          .update("z", { n: 2 }, { fence: { scope: "group-config:a", token: 11 } }),
        "STALE_FENCING_TOKEN",
      );
    });

    test("ping answers while open", async () => {
      const store = await fresh();
      await store.ping();
      expect(store.location.length).toBeGreaterThan(0);
    });
  });
}
