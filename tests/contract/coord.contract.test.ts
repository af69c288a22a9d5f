import { afterEach, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import type { Coordination } from "../../src/coord/port.ts";
import { ValkeyCoordination } from "../../src/coord/valkey/valkey-coordination.ts";
import { coordAdapters } from "../support/adapters.ts";
import { redisServer } from "../support/servers.ts";
import { waitFor } from "../support/wait.ts";

for (const adapter of await coordAdapters()) {
  describe.skipIf(Boolean(adapter.skip))(`coordination contract: ${adapter.name}`, () => {
    const open: Coordination[] = [];
    const fresh = async () => {
      const coord = await adapter.open();
      open.push(coord);
      return coord;
    };
    afterEach(async () => {
      for (const coord of open.splice(0)) await coord.close();
    });

    test("state export and import carry fencing tokens, revocations with their TTL and the event sequence", async () => {
      const source = await fresh();
      const lease = (await source.acquireLease("group:lobby", "ctl-a", 5000))!;
      await source.releaseLease(lease);
      await source.acquireLease("group:lobby", "ctl-a", 5000);
      await source.revoke("jwt", "jti-1", 60_000);
      await source.revoke("nodecert-serial", "0a:ff", 60_000);
      for (let i = 0; i < 3; i++) await source.appendEvent("{}", 100);
      const state = await source.exportState();
      expect(state.fencingTokens).toContainEqual({ scope: "group:lobby", token: 2 });
      expect(state.eventSequence).toBe(3);
      const jwt = state.revocations.find((r) => r.kind === "jwt" && r.id === "jti-1");
      expect(jwt?.ttlMs).toBeGreaterThan(50_000);
      expect(jwt?.ttlMs).toBeLessThanOrEqual(60_000);
      expect(state.revocations).toContainEqual(
        expect.objectContaining({ kind: "nodecert-serial", id: "0a:ff" }),
      );

      const target = await fresh();
      for (let i = 0; i < 5; i++) await target.acquireLease(`other:${i}`, "ctl-b", 5000);
      await target.raiseFencingToken("group:lobby", 1);
      await target.importState({
        ...state,
        fencingTokens: [...state.fencingTokens, { scope: "other:0", token: 0 }],
      });
      expect(await target.isRevoked("jwt", "jti-1")).toBe(true);
      expect(await target.isRevoked("nodecert-serial", "0a:ff")).toBe(true);
      expect(await target.fencingToken("other:0")).toBe(1);
      expect((await target.acquireLease("group:lobby", "ctl-b", 5000))!.token).toBe(3);
      expect(await target.appendEvent("{}", 100)).toBe(4);
    });

    test("a lease has one holder; the holder renews it with the same token", async () => {
      const coord = await fresh();
      const a = await coord.acquireLease("group:lobby", "ctl-a", 5000);
      expect(a).toEqual({ scope: "group:lobby", holder: "ctl-a", token: 1 });
      expect(await coord.acquireLease("group:lobby", "ctl-b", 5000)).toBeNull();
      expect(await coord.acquireLease("group:lobby", "ctl-a", 5000)).toEqual(a);
      expect(await coord.renewLease(a!, 5000)).toBe(true);
      expect(await coord.isLeaseCurrent(a!)).toBe(true);
      expect(await coord.fencingToken("group:lobby")).toBe(1);
      const leases = await coord.listLeases();
      expect(leases).toHaveLength(1);
      expect(leases[0]).toMatchObject({ scope: "group:lobby", holder: "ctl-a", token: 1 });
      expect(leases[0]!.ttlMs).toBeGreaterThan(0);
      expect(leases[0]!.ttlMs).toBeLessThanOrEqual(5000);
    });

    test("after expiry another holder takes the lease with a higher token and the old lease is dead", async () => {
      const coord = await fresh();
      const a = (await coord.acquireLease("group:x", "ctl-a", 150))!;
      const b = await waitFor(() => coord.acquireLease("group:x", "ctl-b", 5000), {
        what: "lease to expire",
      });
      expect(b.token).toBeGreaterThan(a.token);
      expect(await coord.isLeaseCurrent(a)).toBe(false);
      expect(await coord.renewLease(a, 5000)).toBe(false);
      expect(await coord.releaseLease(a)).toBe(false);
      expect(await coord.isLeaseCurrent(b)).toBe(true);
    });

    test("release frees the lease only for its holder; tokens never repeat", async () => {
      const coord = await fresh();
      const a = (await coord.acquireLease("s", "ctl-a", 5000))!;
      expect(await coord.releaseLease({ ...a, holder: "ctl-b" })).toBe(false);
      expect(await coord.releaseLease(a)).toBe(true);
      const b = (await coord.acquireLease("s", "ctl-b", 5000))!;
      expect(b.token).toBe(a.token + 1);
      await coord.releaseLease(b);
      const a2 = (await coord.acquireLease("s", "ctl-a", 5000))!;
      expect(a2.token).toBe(b.token + 1);
      expect(await coord.isLeaseCurrent(a)).toBe(false);
    });

    test("the token counter can be raised above a floor but never lowered", async () => {
      const coord = await fresh();
      const first = (await coord.acquireLease("s", "ctl-a", 5000))!;
      expect(first.token).toBe(1);
      await coord.releaseLease(first);
      await coord.raiseFencingToken("s", 41);
      expect(await coord.fencingToken("s")).toBe(41);
      await coord.raiseFencingToken("s", 7);
      expect(await coord.fencingToken("s")).toBe(41);
      expect((await coord.acquireLease("s", "ctl-b", 5000))!.token).toBe(42);
    });

    test("of many controllers racing for a free lease exactly one wins", async () => {
      const coord = await fresh();
      const results = await Promise.all(
        Array.from({ length: 25 }, (_, i) => coord.acquireLease("race", `ctl-${i}`, 5000)),
      );
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect(await coord.fencingToken("race")).toBe(winners[0]!.token);
    });

    test("revocations hold until their TTL passes", async () => {
      const coord = await fresh();
      await coord.revoke("jwt", "jti-1", 150);
      await coord.revoke("nodecert-serial", "ab12", 60_000);
      expect(await coord.isRevoked("jwt", "jti-1")).toBe(true);
      expect(await coord.isRevoked("jwt", "jti-2")).toBe(false);
      expect(await coord.isRevoked("nodecert-cn", "ab12")).toBe(false);
      await waitFor(async () => !(await coord.isRevoked("jwt", "jti-1")), { what: "revocation to expire" });
      expect(await coord.isRevoked("nodecert-serial", "ab12")).toBe(true);
    });

    test("login failures lock the account at the threshold; a success clears the count", async () => {
      const coord = await fresh();
      const policy = { maxAttempts: 3, windowMs: 60_000, lockMs: 60_000 };
      expect(await coord.recordLoginFailure("bob", policy)).toEqual({ failures: 1, lockedUntil: null });
      await coord.clearLoginFailures("bob");
      expect((await coord.recordLoginFailure("bob", policy)).failures).toBe(1);
      expect((await coord.recordLoginFailure("bob", policy)).failures).toBe(2);
      expect(await coord.loginLockedUntil("bob")).toBeNull();
      const third = await coord.recordLoginFailure("bob", policy);
      expect(third.failures).toBe(3);
      expect(third.lockedUntil).toBeGreaterThan(Date.now() + 50_000);
      expect(await coord.loginLockedUntil("bob")).toBe(third.lockedUntil);
      expect(await coord.loginLockedUntil("alice")).toBeNull();
      // clearing lifts the lock too (prexor admin unlock)
      await coord.clearLoginFailures("bob");
      expect(await coord.loginLockedUntil("bob")).toBeNull();
    });

    test("a lock ends by itself after its duration", async () => {
      const coord = await fresh();
      const policy = { maxAttempts: 1, windowMs: 60_000, lockMs: 150 };
      expect((await coord.recordLoginFailure("eve", policy)).lockedUntil).not.toBeNull();
      await waitFor(async () => (await coord.loginLockedUntil("eve")) === null, { what: "lock to end" });
    });

    test("fixed-window rate limits count per bucket and key and reset with the window", async () => {
      const coord = await fresh();
      const hits = [];
      for (let i = 0; i < 4; i++) hits.push(await coord.hitRateLimit("ip", "10.0.0.1", 3, 300));
      expect(hits.map((h) => h.allowed)).toEqual([true, true, true, false]);
      expect(hits[3]!.count).toBe(4);
      expect(hits[3]!.retryAfterMs).toBeGreaterThan(0);
      expect(hits[3]!.retryAfterMs).toBeLessThanOrEqual(300);
      expect((await coord.hitRateLimit("ip", "10.0.0.2", 3, 300)).allowed).toBe(true);
      expect((await coord.hitRateLimit("user", "10.0.0.1", 3, 300)).allowed).toBe(true);
      await waitFor(async () => (await coord.hitRateLimit("ip", "10.0.0.1", 3, 300)).count === 1, {
        what: "window reset",
      });
    });

    test("the replay buffer is ordered, resumable and trimmed to its length", async () => {
      const coord = await fresh();
      const seqs = [];
      for (let i = 1; i <= 5; i++) seqs.push(await coord.appendEvent(JSON.stringify({ i }), 3));
      expect(seqs).toEqual([1, 2, 3, 4, 5]);
      const window = await coord.eventsAfter(3, 100);
      expect(window.events.map((e) => e.seq)).toEqual([4, 5]);
      expect(JSON.parse(window.events[0]!.payload)).toEqual({ i: 4 });
      expect(window.oldestSeq).toBe(3);
      expect(window.latestSeq).toBe(5);
      const behind = await coord.eventsAfter(0, 100);
      expect(behind.events.map((e) => e.seq)).toEqual([3, 4, 5]);
      expect(behind.oldestSeq).toBeGreaterThan(1);
      expect((await coord.eventsAfter(2, 1)).events.map((e) => e.seq)).toEqual([3]);
    });

    test("the replay buffer keeps order under concurrent appends", async () => {
      const coord = await fresh();
      const seqs = await Promise.all(
        Array.from({ length: 50 }, (_, i) => coord.appendEvent(String(i), 1000)),
      );
      expect(new Set(seqs).size).toBe(50);
      const all = await coord.eventsAfter(0, 1000);
      expect(all.events.map((e) => e.seq)).toEqual([...seqs].sort((a, b) => a - b));
    });

    test("tickets are single-use and expire", async () => {
      const coord = await fresh();
      await coord.putTicket("t1", "alice", 5000);
      await coord.putTicket("t2", "bob", 100);
      expect(await coord.takeTicket("t1")).toBe("alice");
      expect(await coord.takeTicket("t1")).toBeNull();
      const putAt = Date.now();
      await waitFor(() => Date.now() - putAt > 150, { what: "ticket TTL to pass" });
      expect(await coord.takeTicket("t2")).toBeNull();
    });

    test("pub/sub delivers to subscribers until they unsubscribe", async () => {
      const publisher = await fresh();
      const received: string[] = [];
      const unsubscribe = await publisher.subscribe("group", (m) => received.push(m));
      await publisher.publish("group", "one");
      await waitFor(() => received.includes("one"), { what: "delivery" });
      await unsubscribe();
      // A subscriber that stays: messages on one channel arrive in order, so once it has "two",
      // the unsubscribed handler would have had "two" as well.
      const fence: string[] = [];
      const unsubscribeFence = await publisher.subscribe("group", (m) => fence.push(m));
      await publisher.publish("group", "two");
      await publisher.publish("other", "x");
      await waitFor(() => fence.includes("two"), { what: "the fence subscriber's delivery" });
      expect(received).toEqual(["one"]);
      await unsubscribeFence();
    });

    test("snapshots are shared values per family; compare-and-set refuses a stale expectation", async () => {
      const coord = await fresh();
      const uuid = "0f5b7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
      expect(await coord.getSnapshot("player", uuid)).toBeNull();
      expect(await coord.swapSnapshot("player", uuid, null, "v1")).toBe(true);
      expect(await coord.swapSnapshot("player", uuid, null, "other")).toBe(false);
      expect(await coord.swapSnapshot("player", uuid, "stale", "v2")).toBe(false);
      expect(await coord.swapSnapshot("player", uuid, "v1", "v2")).toBe(true);
      expect(await coord.getSnapshot("player", uuid)).toBe("v2");
      await coord.putSnapshot("player", "p2", "w");
      await coord.putSnapshot("instance-metrics", uuid, "m");
      const players = await coord.listSnapshots("player");
      expect(players.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
        { id: uuid, value: "v2" },
        { id: "p2", value: "w" },
      ]);
      expect(await coord.swapSnapshot("player", uuid, "v2", null)).toBe(true);
      await coord.deleteSnapshot("player", "p2");
      expect(await coord.listSnapshots("player")).toEqual([]);
      expect(await coord.getSnapshot("instance-metrics", uuid)).toBe("m");
    });

    test("a snapshot with a TTL disappears from reads and listings", async () => {
      const coord = await fresh();
      await coord.putSnapshot("instance-metrics", "lobby-1", "short", 100);
      await coord.putSnapshot("instance-metrics", "lobby-2", "long", 60_000);
      expect(await coord.getSnapshot("instance-metrics", "lobby-1")).toBe("short");
      await waitFor(async () => (await coord.getSnapshot("instance-metrics", "lobby-1")) === null, {
        what: "snapshot TTL to pass",
      });
      expect(await coord.listSnapshots("instance-metrics")).toEqual([{ id: "lobby-2", value: "long" }]);
      // Rewritten after expiry: listed again.
      await coord.putSnapshot("instance-metrics", "lobby-1", "again");
      expect((await coord.listSnapshots("instance-metrics")).length).toBe(2);
    });

    test("of many racing compare-and-sets on one snapshot exactly one wins", async () => {
      const coord = await fresh();
      await coord.putSnapshot("player", "racer", "0");
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => coord.swapSnapshot("player", "racer", "0", String(i + 1))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    test("ping answers while connected", async () => {
      const coord = await fresh();
      await coord.ping();
    });
  });
}

const redis = await redisServer();
describe.skipIf(Boolean(redis.skip))("valkey key layout", () => {
  test("uses the documented prexor:v1 key families; fencing counters never expire", async () => {
    const uri = `${redis.server!.uri}/3`;
    const raw = new Redis(uri);
    await raw.flushdb();
    const coord = await ValkeyCoordination.connect({ uri });
    try {
      const lease = (await coord.acquireLease("group:lobby", "ctl-a", 10_000))!;
      await coord.revoke("jwt", "abc", 10_000);
      await coord.appendEvent("{}", 2048);
      await coord.hitRateLimit("login", "127.0.0.1", 10, 60_000);
      await coord.swapSnapshot("player", "u-1", null, "{}");
      expect(await raw.get("prexor:v1:lease:group:lobby")).toBe(`ctl-a|${lease.token}`);
      expect(await raw.pttl("prexor:v1:lease:group:lobby")).toBeGreaterThan(0);
      expect(await raw.get("prexor:v1:lease-token:group:lobby")).toBe(String(lease.token));
      expect(await raw.pttl("prexor:v1:lease-token:group:lobby")).toBe(-1);
      expect(await raw.exists("prexor:v1:jwt:revoked:abc")).toBe(1);
      expect(await raw.get("prexor:v1:sse:sequence")).toBe("1");
      expect(await raw.xlen("prexor:v1:sse:replay-stream")).toBe(1);
      expect(await raw.get("prexor:v1:ratelimit:login:127.0.0.1")).toBe("1");
      expect(await raw.get("prexor:v1:player:u-1")).toBe("{}");
      expect(await raw.pttl("prexor:v1:player:u-1")).toBe(-1);
    } finally {
      await coord.close();
      raw.disconnect();
    }
  });

  test("an unreachable server is reported with its address and the password redacted", async () => {
    const err = await ValkeyCoordination.connect({
      uri: "redis://:hunter2@127.0.0.1:1",
      connectTimeoutMs: 500,
    }).catch((e) => e);
    expect(String(err.message)).toContain("redis://:***@127.0.0.1:1");
    expect(String(err.message)).not.toContain("hunter2");
  });
});
