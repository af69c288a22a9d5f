import { beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseTtl } from "../../../src/controller/http/routes/token-routes.ts";
import { JoinTokenRefusal, JoinTokenService, statusOf } from "../../../src/controller/nodes/join-tokens.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { caMatchesPin, joinTokenHash, mintJoinToken, parseJoinToken } from "../../../src/wire/join-token.ts";
import { tempDir } from "../../support/adapters.ts";

const FINGERPRINT = "0f".repeat(32);

describe("join token format", () => {
  test("pxr_ prefix, carries a pin of the CA fingerprint, unique every time", () => {
    const a = mintJoinToken(FINGERPRINT);
    const b = mintJoinToken(FINGERPRINT);
    expect(a).toMatch(/^pxr_[A-Za-z0-9_-]{48}$/);
    expect(a).not.toBe(b);
    const parsed = parseJoinToken(a)!;
    expect(caMatchesPin(FINGERPRINT, parsed.caPin)).toBe(true);
    expect(caMatchesPin("1f".repeat(32), parsed.caPin)).toBe(false);
    expect(joinTokenHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(joinTokenHash(a)).not.toBe(joinTokenHash(b));
  });

  test("anything else is not a token", () => {
    for (const text of [
      "",
      "pxr_",
      "pxr_abc",
      `xyz_${mintJoinToken(FINGERPRINT).slice(4)}`,
      `${mintJoinToken(FINGERPRINT)}x`,
      "pxr_!!!!",
    ]) {
      expect(parseJoinToken(text)).toBeNull();
    }
  });

  test("ttl strings", () => {
    expect(parseTtl("90s")).toBe(90);
    expect(parseTtl("30m")).toBe(1800);
    expect(parseTtl("1h")).toBe(3600);
    expect(parseTtl("7d")).toBe(604_800);
    expect(() => parseTtl("1 hour")).toThrow("not a duration");
  });
});

describe("JoinTokenService", () => {
  let now = 1_000_000;
  let enrolled = new Set<string>();
  let service: JoinTokenService;

  beforeEach(async () => {
    now = 1_000_000;
    enrolled = new Set();
    const store = await SqliteStore.open({ file: join(tempDir(), "t.db") });
    service = new JoinTokenService(
      store,
      FINGERPRINT,
      { isEnrolled: async (id) => enrolled.has(id) },
      () => now,
    );
  });

  const reason = async (work: Promise<unknown>) => {
    const err = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(JoinTokenRefusal);
    return (err as JoinTokenRefusal).reason;
  };

  test("default TTL is an hour; only the hash is stored", async () => {
    const { doc, token } = await service.create({ createdBy: "admin" });
    expect(doc.expiresAt - doc.createdAt).toBe(3_600_000);
    expect(doc.hash).toBe(joinTokenHash(token));
    expect(JSON.stringify(doc)).not.toContain(token);
    expect((await service.create({ createdBy: "a", ttlSeconds: 0 })).doc.expiresAt - now).toBe(3_600_000);
    await expect(service.create({ createdBy: "a", ttlSeconds: 31 * 86_400 })).rejects.toThrow("at most");
  });

  test("single use: check passes until consumed; of two consumers one wins", async () => {
    const { token } = await service.create({ createdBy: "admin" });
    const first = await service.check(token);
    const second = await service.check(token);
    const outcomes = await Promise.allSettled([
      service.consume(first, "n1", "10.0.0.1"),
      service.consume(second, "n2", "10.0.0.2"),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(await reason(service.check(token))).toBe("consumed");
  });

  test("expired, revoked, unknown and malformed are told apart internally", async () => {
    const { token, doc } = await service.create({ createdBy: "admin", ttlSeconds: 60 });
    now += 61_000;
    expect(await reason(service.check(token))).toBe("expired");
    expect(statusOf(doc, now)).toBe("EXPIRED");
    const other = await service.create({ createdBy: "admin" });
    await service.revoke(other.doc._id, "admin");
    expect(await reason(service.check(other.token))).toBe("revoked");
    expect(await reason(service.check(mintJoinToken(FINGERPRINT)))).toBe("unknown");
    expect(await reason(service.check("pxr_nope"))).toBe("malformed");
  });

  test("a node with a pending token or an enrolment gets no second one; used tokens cannot be revoked", async () => {
    const { doc, token } = await service.create({ createdBy: "admin", nodeId: "n1" });
    await expect(service.create({ createdBy: "admin", nodeId: "n1" })).rejects.toThrow("pending join token");
    enrolled.add("n2");
    await expect(service.create({ createdBy: "admin", nodeId: "n2" })).rejects.toThrow("already enrolled");
    await service.consume(await service.check(token), "n1", "127.0.0.1");
    await expect(service.revoke(doc._id, "admin")).rejects.toThrow("already used");
    await expect(service.revoke("tok_missing", "admin")).rejects.toThrow("not found");
  });

  test("spent tokens are pruned after a week", async () => {
    await service.create({ createdBy: "admin", ttlSeconds: 60 });
    expect((await service.list(1, 10)).total).toBe(1);
    now += 8 * 86_400_000;
    await service.create({ createdBy: "admin" });
    expect((await service.list(1, 10)).total).toBe(1);
  });
});
