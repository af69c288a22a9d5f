import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { startTestController, type TestController } from "../../support/controller.ts";

const SECRET = Buffer.alloc(32, 7).toString("base64");

let ctl: TestController;
let admin: string;

beforeAll(async () => {
  ctl = await startTestController(`  jwtSecret: ${SECRET}`);
  admin = await ctl.login();
});
afterAll(() => ctl.stop());

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

/** A token with our claims, signed with the controller's own secret under any HMAC algorithm. */
function forge(alg: "HS256" | "HS384" | "HS512", sub: string, role: string): string {
  const nowMs = Date.now();
  const now = Math.floor(nowMs / 1000);
  // The jti carries the issue time in ms, as ours do: with iat alone (whole seconds, rounded
  // down) a token forged in the same second the admin's tokensValidAfter was set reads as older.
  const jti = `${nowMs.toString(36)}.${crypto.randomUUID()}`;
  const head = `${b64url({ alg, typ: "JWT" })}.${b64url({ sub, role, iat: now, exp: now + 600, jti })}`;
  const hash = { HS256: "sha256", HS384: "sha384", HS512: "sha512" }[alg];
  const sig = createHmac(hash, Buffer.from(SECRET, "base64")).update(head).digest("base64url");
  return `${head}.${sig}`;
}

describe("token lifecycle", () => {
  test("a deleted user's token does not come back when a user of the same name is re-created", async () => {
    const create = () =>
      ctl.call("POST", "/api/v1/users", {
        token: admin,
        body: { username: "bob", password: "bob-password-1", role: "ADMIN" },
      });
    expect((await create()).status).toBe(201);
    const old = await ctl.login("bob", "bob-password-1");
    expect((await ctl.call("GET", "/api/v1/auth/me", { token: old })).status).toBe(200);
    expect((await ctl.call("DELETE", "/api/v1/users/bob", { token: admin })).status).toBe(200);
    expect((await create()).status).toBe(201);
    const res = await ctl.call("GET", "/api/v1/auth/me", { token: old });
    expect(res.status).toBe(401);
    // the new bob's own tokens work
    const fresh = await ctl.login("bob", "bob-password-1");
    expect((await ctl.call("GET", "/api/v1/auth/me", { token: fresh })).status).toBe(200);
  });

  test("only HS256 is accepted: HS384 and HS512 tokens under the same secret are refused", async () => {
    // Backdate nothing: the admin exists since boot, so a freshly forged token is newer than its
    // tokensValidAfter and only the algorithm decides.
    expect(
      (await ctl.call("GET", "/api/v1/auth/me", { token: forge("HS256", "admin", "ADMIN") })).status,
    ).toBe(200);
    for (const alg of ["HS384", "HS512"] as const) {
      const res = await ctl.call("GET", "/api/v1/auth/me", { token: forge(alg, "admin", "ADMIN") });
      expect({ alg, status: res.status }).toEqual({ alg, status: 401 });
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
    }
  });
});

describe("the generated JWT secret at rest", () => {
  test("is sealed under the cluster secret in the store; a plaintext one from an older build is sealed on start", async () => {
    const first = await startTestController();
    const root = first.root;
    try {
      const meta = first.running.store.collection<{ _id: string; secret?: string; sealed?: string }>(
        "cluster_meta",
      );
      const doc = await meta.get("jwt-secret");
      expect(doc?.secret).toBeUndefined();
      expect(doc?.sealed).toMatch(/^\S+:/);
      const token = await first.login();
      // an older build left the secret in plaintext
      const plain = Buffer.alloc(32, 9).toString("base64");
      await meta.put({ _id: "jwt-secret", secret: plain, createdAt: 1 } as never);
      await first.stop();
      const again = await startTestController("", undefined, root);
      try {
        const migrated = await again.running.store
          .collection<{ _id: string; secret?: string; sealed?: string }>("cluster_meta")
          .get("jwt-secret");
        expect(migrated?.secret).toBeUndefined();
        expect(migrated?.sealed).toBeDefined();
        // the old token was signed with the replaced secret: refused; new logins work
        expect((await again.call("GET", "/api/v1/auth/me", { token })).status).toBe(401);
        expect((await again.call("GET", "/api/v1/auth/me", { token: await again.login() })).status).toBe(200);
      } finally {
        await again.stop();
      }
    } finally {
      await first.stop().catch(() => undefined);
    }
  });
});
