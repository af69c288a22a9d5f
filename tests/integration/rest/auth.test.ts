import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startTestController, TEST_ADMIN_PASSWORD, type TestController } from "../../support/controller.ts";

const controllers: TestController[] = [];
afterAll(async () => {
  for (const c of controllers) await c.stop();
});
async function controller(yaml = "") {
  const c = await startTestController(yaml);
  controllers.push(c);
  return c;
}

async function errorOf(res: Response) {
  const body = (await res.json()) as {
    error: { code: string; message: string; requestId: string; details?: Record<string, unknown> };
  };
  expect(res.headers.get("x-request-id")).toBe(body.error.requestId);
  return body.error;
}

describe("operator auth", () => {
  test("login returns a JWT with sub, role, iat, exp, jti; wrong passwords get the 401 envelope", async () => {
    const ctl = await controller();
    const res = await ctl.call("POST", "/api/v1/auth/login", {
      body: { username: "admin", password: TEST_ADMIN_PASSWORD },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      token: string;
      expiresAt: string;
      user: { username: string; role: string };
    };
    expect(body.user).toMatchObject({ username: "admin", role: "ADMIN" });
    const claims = JSON.parse(Buffer.from(body.token.split(".")[1]!, "base64url").toString());
    expect(Object.keys(claims).sort()).toEqual(["exp", "iat", "jti", "role", "sub"]);
    expect(claims.exp - claims.iat).toBe(1440 * 60);
    expect(JSON.parse(Buffer.from(body.token.split(".")[0]!, "base64url").toString()).alg).toBe("HS256");

    const bad = await ctl.call("POST", "/api/v1/auth/login", {
      body: { username: "admin", password: "nope-nope" },
    });
    expect(bad.status).toBe(401);
    expect(await errorOf(bad)).toMatchObject({
      code: "UNAUTHORIZED",
      message: "invalid username or password",
    });
    const ghost = await ctl.call("POST", "/api/v1/auth/login", {
      body: { username: "ghost", password: "nope-nope" },
    });
    expect((await errorOf(ghost)).message).toBe("invalid username or password");
  });

  test("me, refresh and logout; a logged-out token is refused", async () => {
    const ctl = await controller();
    const token = await ctl.login();
    const me = (await (await ctl.call("GET", "/api/v1/auth/me", { token })).json()) as {
      username: string;
      permissions: string[];
    };
    expect(me.username).toBe("admin");
    expect(me.permissions).toContain("users.create");
    expect(me.permissions).not.toContain("cluster.manage");
    const refreshed = (await (await ctl.call("POST", "/api/v1/auth/refresh", { token })).json()) as {
      token: string;
    };
    expect(refreshed.token).not.toBe(token);
    expect((await ctl.call("POST", "/api/v1/auth/logout", { token })).status).toBe(200);
    const after = await ctl.call("GET", "/api/v1/auth/me", { token });
    expect(after.status).toBe(401);
    expect((await ctl.call("GET", "/api/v1/auth/me", { token: refreshed.token })).status).toBe(200);
  });

  test("changing a password revokes every earlier token; changing admin's deletes the bootstrap file", async () => {
    const ctl = await controller();
    const file = join(ctl.root, "config/.initial-admin-password");
    expect(existsSync(file)).toBe(true);
    const a = await ctl.login();
    const b = await ctl.login();
    const tooShort = await ctl.call("POST", "/api/v1/auth/change-password", {
      token: a,
      body: { currentPassword: TEST_ADMIN_PASSWORD, newPassword: "short" },
    });
    expect(tooShort.status).toBe(422);
    const wrong = await ctl.call("POST", "/api/v1/auth/change-password", {
      token: a,
      body: { currentPassword: "not-it-at-all", newPassword: "a-new-long-password" },
    });
    expect(wrong.status).toBe(401);
    const ok = await ctl.call("POST", "/api/v1/auth/change-password", {
      token: a,
      body: { currentPassword: TEST_ADMIN_PASSWORD, newPassword: "a-new-long-password" },
    });
    expect(ok.status).toBe(200);
    expect(existsSync(file)).toBe(false);
    for (const old of [a, b])
      expect((await ctl.call("GET", "/api/v1/auth/me", { token: old })).status).toBe(401);
    const fresh = await ctl.login("admin", "a-new-long-password");
    expect((await ctl.call("GET", "/api/v1/auth/me", { token: fresh })).status).toBe(200);
  });

  test("a role edit applies to tokens already issued; a deleted user's token stops working", async () => {
    const ctl = await controller();
    const admin = await ctl.login();
    await ctl.call("POST", "/api/v1/roles", {
      token: admin,
      body: { name: "AUDITOR", permissions: ["roles.view"] },
    });
    await ctl.call("POST", "/api/v1/users", {
      token: admin,
      body: { username: "carol", password: "carol-password", role: "AUDITOR" },
    });
    const carol = await ctl.login("carol", "carol-password");
    expect((await ctl.call("GET", "/api/v1/audit", { token: carol })).status).toBe(403);
    const patched = await ctl.call("PATCH", "/api/v1/roles/AUDITOR", {
      token: admin,
      body: { permissions: ["roles.view", "audit.view"] },
    });
    expect(patched.status).toBe(200);
    expect((await ctl.call("GET", "/api/v1/audit", { token: carol })).status).toBe(200);
    expect((await ctl.call("DELETE", "/api/v1/roles/AUDITOR", { token: admin })).status).toBe(409);
    expect((await ctl.call("DELETE", "/api/v1/users/carol", { token: admin })).status).toBe(200);
    expect((await ctl.call("GET", "/api/v1/roles", { token: carol })).status).toBe(401);
  });

  test("forged, tampered and expired tokens are refused", async () => {
    const ctl = await controller();
    const token = await ctl.login();
    const [h, p, s] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const elevated = Buffer.from(JSON.stringify({ ...claims, sub: "root" })).toString("base64url");
    const expired = Buffer.from(JSON.stringify({ ...claims, exp: claims.iat - 10 })).toString("base64url");
    for (const bad of [
      `${h}.${elevated}.${s}`,
      `${h}.${expired}.${s}`,
      `${h}.${p}.${s.slice(0, -4)}AAAA`,
      "not.a.jwt",
      "x".repeat(30),
    ]) {
      const res = await ctl.call("GET", "/api/v1/auth/me", { token: bad });
      expect(res.status).toBe(401);
      expect((await errorOf(res)).code).toBe("UNAUTHORIZED");
    }
    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    expect((await ctl.call("GET", "/api/v1/auth/me", { token: `${none}.${p}.` })).status).toBe(401);
  });

  test("tokens signed with a previous secret still verify during rotation", async () => {
    const oldSecret = Buffer.alloc(32, 7).toString("base64");
    const newSecret = Buffer.alloc(32, 9).toString("base64");
    const before = await controller(`  jwtSecret: ${oldSecret}`);
    const oldToken = await before.login();
    // Same store (the user the token names must be the same user), restarted with rotated keys.
    await before.stop();
    const rotated = await startTestController(
      "",
      (c) => {
        c.security.jwtSecret = newSecret;
        c.security.jwtPreviousSecrets = [oldSecret];
      },
      before.root,
    );
    controllers.push(rotated);
    expect((await rotated.call("GET", "/api/v1/auth/me", { token: oldToken })).status).toBe(200);
    await rotated.stop();
    const dropped = await startTestController(
      "",
      (c) => {
        c.security.jwtSecret = newSecret;
      },
      before.root,
    );
    controllers.push(dropped);
    expect((await dropped.call("GET", "/api/v1/auth/me", { token: oldToken })).status).toBe(401);
  });
});

describe("lockout and rate limits", () => {
  test("5 failures lock the account: even the right password gets 429 ACCOUNT_LOCKED with Retry-After", async () => {
    const ctl = await controller();
    for (let i = 0; i < 4; i++) {
      expect(
        (
          await ctl.call("POST", "/api/v1/auth/login", {
            body: { username: "admin", password: `wrong-${i}` },
          })
        ).status,
      ).toBe(401);
    }
    const fifth = await ctl.call("POST", "/api/v1/auth/login", {
      body: { username: "admin", password: "wrong-4" },
    });
    expect(fifth.status).toBe(429);
    const locked = await ctl.call("POST", "/api/v1/auth/login", {
      body: { username: "admin", password: TEST_ADMIN_PASSWORD },
    });
    expect(locked.status).toBe(429);
    const retry = Number(locked.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(800);
    expect(retry).toBeLessThanOrEqual(900);
    const err = await errorOf(locked);
    expect(err.code).toBe("ACCOUNT_LOCKED");
    expect(Date.parse(String(err.details?.lockedUntil))).toBeGreaterThan(Date.now());
  });

  test("per-IP and login windows answer 429 RATE_LIMITED with Retry-After", async () => {
    const ctl = await startTestController("", (c) => {
      c.security.rateLimiting.perIpPerMinute = 8;
      c.security.rateLimiting.loginPerIpPerMinute = 3;
    });
    controllers.push(ctl);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (await ctl.call("POST", "/api/v1/auth/login", { body: { username: "x1", password: "y" } })).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    const codes: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 6; i++) {
      last = await ctl.call("GET", "/api/v1/system/version");
      codes.push(last.status);
    }
    expect(codes.filter((c) => c === 429).length).toBeGreaterThan(0);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await errorOf(last!)).code).toBe("RATE_LIMITED");
    // probes are never limited
    expect((await ctl.call("GET", "/api/v1/system/health")).status).toBe(200);
  });

  test("per-user limits follow the user, not the address", async () => {
    const ctl = await startTestController("", (c) => {
      c.security.rateLimiting.perUserPerMinute = 3;
    });
    controllers.push(ctl);
    const token = await ctl.login();
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await ctl.call("GET", "/api/v1/auth/me", { token })).status);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
  });
});

describe("network guard", () => {
  test("addresses outside allowedSubnets get 403, probes still answer", async () => {
    const ctl = await controller("network:\n  allowedSubnets: ['10.0.0.0/8']");
    const res = await ctl.call("GET", "/api/v1/system/version");
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe("FORBIDDEN");
    expect((await ctl.call("GET", "/api/v1/system/health")).status).toBe(200);
  });

  test("a spoofed X-Forwarded-For from an untrusted peer is ignored", async () => {
    const ctl = await controller("network:\n  allowedSubnets: ['10.0.0.0/8']");
    const spoofed = await ctl.call("GET", "/api/v1/system/version", {
      headers: { "x-forwarded-for": "10.1.2.3" },
    });
    expect(spoofed.status).toBe(403);
  });

  test("X-Forwarded-For is honoured from a trusted proxy, right-most untrusted hop wins", async () => {
    const ctl = await startTestController("network:\n  allowedSubnets: ['10.0.0.0/8']", (c) => {
      c.http.trustedProxyCidrs = ["127.0.0.1/32"];
    });
    controllers.push(ctl);
    const ok = await ctl.call("GET", "/api/v1/system/version", {
      headers: { "x-forwarded-for": "10.1.2.3" },
    });
    expect(ok.status).toBe(200);
    // The client claims 10.x but the proxy saw it come from 192.0.2.7: that is the client.
    const chained = await ctl.call("GET", "/api/v1/system/version", {
      headers: { "x-forwarded-for": "10.9.9.9, 192.0.2.7" },
    });
    expect(chained.status).toBe(403);
  });

  test("CORS answers preflights for allowed origins only", async () => {
    const ctl = await startTestController("", (c) => {
      c.http.cors.allowedOrigins = ["https://dash.example.org"];
    });
    controllers.push(ctl);
    const ok = await ctl.call("OPTIONS", "/api/v1/auth/me", {
      headers: { origin: "https://dash.example.org", "access-control-request-method": "GET" },
    });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://dash.example.org");
    const evil = await ctl.call("OPTIONS", "/api/v1/auth/me", {
      headers: { origin: "https://evil.example.com", "access-control-request-method": "GET" },
    });
    expect(evil.headers.get("access-control-allow-origin")).not.toBe("https://evil.example.com");
  });
});

describe("audit log", () => {
  test("state changes are recorded with actor, action, resource, summaries without secrets, IP and request id", async () => {
    const ctl = await controller();
    const admin = await ctl.login();
    const created = await ctl.call("POST", "/api/v1/users", {
      token: admin,
      headers: { "x-request-id": "req-abc-123" },
      body: { username: "dave", password: "dave-password-1", role: "VIEWER", email: "dave@example.org" },
    });
    expect(created.status).toBe(201);
    await ctl.call("PATCH", "/api/v1/users/dave", {
      token: admin,
      body: { role: "OPERATOR", password: "another-password" },
    });
    await ctl.call("POST", "/api/v1/roles", {
      token: admin,
      body: { name: "SUPPORT", permissions: ["crashes.view"] },
    });

    const res = await ctl.call("GET", "/api/v1/audit?resourceType=user&pageSize=10", { token: admin });
    const page = (await res.json()) as {
      data: Array<Record<string, unknown>>;
      total: number;
      page: number;
      pageSize: number;
    };
    expect(page).toMatchObject({ total: 2, page: 1, pageSize: 10 });
    const [update, create] = page.data as Array<
      { action: string; before?: { role: string }; after?: { role: string } } & Record<string, unknown>
    >;
    expect(update!.action).toBe("user.update");
    expect(update!.before?.role).toBe("VIEWER");
    expect(update!.after?.role).toBe("OPERATOR");
    expect(create).toMatchObject({
      action: "user.create",
      username: "admin",
      resourceId: "dave",
      requestId: "req-abc-123",
      ipAddress: "127.0.0.1",
    });
    expect(JSON.stringify(page)).not.toContain("dave-password-1");
    expect(JSON.stringify(page)).not.toContain("another-password");

    const byAction = (await (
      await ctl.call("GET", "/api/v1/audit?action=role.create", { token: admin })
    ).json()) as { total: number };
    expect(byAction.total).toBe(1);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = (await (await ctl.call("GET", `/api/v1/audit?from=${future}`, { token: admin })).json()) as {
      total: number;
    };
    expect(none.total).toBe(0);
    const viewer = await ctl.call("GET", "/api/v1/audit?actor=nobody", { token: admin });
    expect(((await viewer.json()) as { total: number }).total).toBe(0);
  });
});
