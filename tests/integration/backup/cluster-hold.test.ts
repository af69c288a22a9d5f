/**
 * The cluster-wide write hold over one shared coordination store (in-process here; the
 * production-profile pair is in backup-cluster.test.ts): a hold raised by one controller holds the
 * writes of every member, lapses when its holder dies, and fails (no cut) when a member cannot
 * confirm; a restore's close refuses writes everywhere and leaves them refused when its journal
 * stays behind.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { ClusterWriteHold } from "../../../src/controller/backup/cluster-hold.ts";
import { WriteHold } from "../../../src/controller/backup/write-hold.ts";
import { MemoryCoordination } from "../../../src/coord/memory/memory-coordination.ts";
import { isAppError } from "../../../src/core/errors.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import { waitFor } from "../../support/wait.ts";

const members: ClusterWriteHold[] = [];
afterEach(async () => {
  for (const m of members.splice(0)) await m.stop();
});

/** The coordination store as members see it over a network that can drop: every call fails while down. */
function flaky(inner: MemoryCoordination): { coord: MemoryCoordination; down: { value: boolean } } {
  const down = { value: false };
  const coord = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (down.value) return Promise.reject(new Error("coordination unreachable"));
        return value.apply(target, args);
      };
    },
  });
  return { coord, down };
}

function member(
  coord: MemoryCoordination,
  self: string,
  journal: { current: { bundle: string; phase: string } | null },
  ttl = { flagTtlMs: 15_000, memberTtlMs: 10_000 },
) {
  const local = new WriteHold();
  const hold = new ClusterWriteHold({
    coord,
    local,
    self,
    cluster: "mongodb://shared/db",
    unfinishedRestore: async () => journal.current,
    log: silentLogger(),
    pollMs: 20,
    ...ttl,
  });
  members.push(hold);
  return { local, hold };
}

/** Starts one write through `gate`; resolves with when it got in. */
function write(gate: WriteHold): { admitted: Promise<number>; settled: Promise<unknown> } {
  let admittedAt!: (t: number) => void;
  const admitted = new Promise<number>((r) => {
    admittedAt = r;
  });
  const settled = gate.admit().then(
    (done) => {
      admittedAt(performance.now());
      done();
    },
    (err) => {
      admittedAt(-1);
      throw err;
    },
  );
  return { admitted, settled };
}

describe("cluster write hold", () => {
  test("a hold on one controller waits for the other's running write and holds its new ones", async () => {
    const coord = new MemoryCoordination();
    const journal = { current: null };
    const a = member(coord, "a", journal);
    const b = member(coord, "b", journal);
    await a.hold.start();
    await b.hold.start();

    // b has a write in flight when the hold is raised: the hold is granted only after it ends.
    const running = await b.local.admit();
    let granted = false;
    const holding = a.hold.hold(5_000).then((release) => {
      granted = true;
      return release;
    });
    await waitFor(() => b.local.isHeld, { timeoutMs: 5_000, what: "b holding its gate" });
    expect(granted).toBe(false);
    running();
    const release = await holding;
    expect(granted).toBe(true);

    // While held, a new write on b (and on a) waits; after the release both go through.
    const onB = write(b.local);
    const onA = write(a.local);
    let through = false;
    void onB.admitted.then(() => {
      through = true;
    });
    await waitFor(
      async () => (await coord.listSnapshots("write-hold")).some((s) => s.id.endsWith(":ack:b")),
      {
        what: "b's acknowledgement",
      },
    );
    expect(through).toBe(false);
    const releasedAt = performance.now();
    release();
    expect(await onB.admitted).toBeGreaterThanOrEqual(releasedAt);
    expect(await onA.admitted).toBeGreaterThanOrEqual(releasedAt);
    await Promise.all([onA.settled, onB.settled]);
  });

  test("a dead holder's flag lapses and the members let writes through again", async () => {
    const coord = new MemoryCoordination();
    const journal = { current: null };
    const ttl = { flagTtlMs: 300, memberTtlMs: 10_000 };
    const a = member(coord, "a", journal, ttl);
    const b = member(coord, "b", journal, ttl);
    await a.hold.start();
    await b.hold.start();
    await a.hold.hold(5_000); // never released: a "dies" with the hold on
    await a.hold.stop(); // its renewals stop with it
    const held = write(b.local);
    expect(b.local.isHeld).toBe(true);
    // Within the flag's TTL plus a watcher pass, b's write goes through.
    await waitFor(() => held.admitted.then((t) => t > 0), { timeoutMs: 5_000, what: "b's write admitted" });
    expect(b.local.isHeld).toBe(false);
  });

  test("a member that never confirms makes the hold fail within its bound; writes go on", async () => {
    const coord = new MemoryCoordination();
    const journal = { current: null };
    const a = member(coord, "a", journal);
    await a.hold.start();
    // A member entry with nobody behind it (a controller that stopped watching but is still listed).
    const prefix = (await coord.listSnapshots("write-hold"))[0]!.id.split(":")[0];
    await coord.putSnapshot("write-hold", `${prefix}:member:ghost`, "1", 10_000);
    const err = await a.hold.hold(200).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isAppError(err, "UNAVAILABLE")).toBe(true);
    expect((err as Error).message).toContain("ghost");
    expect(a.local.isHeld).toBe(false);
    expect(await coord.getSnapshot("write-hold", `${prefix}:flag`)).toBeNull();
  });

  test("a restore's close refuses writes on every member; a journal left behind keeps them refused", async () => {
    const coord = new MemoryCoordination();
    const journal: { current: { bundle: string; phase: string } | null } = { current: null };
    const a = member(coord, "a", journal);
    const b = member(coord, "b", journal);
    await a.hold.start();
    await b.hold.start();
    const reopen = await a.hold.close("restoring", 5_000);
    await expect(b.local.admit()).rejects.toThrow(/restoring/);
    // The restorer fails half-way: the journal stays, so after the close is lifted b stays shut.
    journal.current = { bundle: "20260101-000000", phase: "store" };
    await a.hold.settle();
    reopen();
    await waitFor(() => b.local.restoreReason?.includes("20260101-000000") ?? false, {
      what: "b marked interrupted",
    });
    await expect(b.local.admit()).rejects.toThrow(/20260101-000000/);
    await expect(a.local.admit()).rejects.toThrow(/20260101-000000/);
    // Someone finishes the restore: the journal goes and every member opens again.
    journal.current = null;
    await waitFor(() => b.local.restoreReason === null, { what: "b open again" });
    const done = await b.local.admit();
    done();
  });

  test("coordination lost mid-hold: members let writes through after the TTL, the holder takes no cut", async () => {
    const { coord, down } = flaky(new MemoryCoordination());
    const journal = { current: null };
    const ttl = { flagTtlMs: 300, memberTtlMs: 10_000 };
    const a = member(coord, "a", journal, ttl);
    const b = member(coord, "b", journal, ttl);
    await a.hold.start();
    await b.hold.start();
    const release = await a.hold.hold(5_000);
    expect(b.local.isHeld).toBe(true);
    down.value = true;
    // b cannot see the flag any more; after a whole TTL it stops holding (the flag would have lapsed).
    const held = write(b.local);
    await waitFor(() => held.admitted.then((t) => t > 0), { timeoutMs: 5_000, what: "b's write admitted" });
    // a's renewals failed for as long: the cut it holds may not be exact, so it refuses to end well.
    await waitFor(() => !b.local.isHeld, { what: "b open" });
    expect(() => release()).toThrow(/no cut was taken/);
    down.value = false;
  });
});
