import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/adapters.ts";
import { type AdminApi, ready } from "../support/admin-api.ts";
import { ensureBinary, type Running, startBinary } from "../support/binary.ts";
import { freePort } from "../support/ports.ts";
import { startUpCloud } from "../support/up-cloud.ts";
import { waitFor } from "../support/wait.ts";

/** The compiled binary, not the sources: minification and production mode change framework behaviour. */
ensureBinary();
const dir = tempDir();
let api: AdminApi;
let up: Running;

beforeAll(async () => {
  ({ api, up } = await startUpCloud(dir));
});
afterAll(async () => {
  await up?.stop("SIGTERM");
});

interface Envelope {
  error: { code: string; message: string };
}

/** Every path under `root` (symlinks not followed) whose mode gives group or others any access. */
function groupOrOtherAccessible(root: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const stat = lstatSync(path);
    if (!stat.isSymbolicLink() && (stat.mode & 0o077) !== 0)
      out.push(`${(stat.mode & 0o777).toString(8)} ${path}`);
  }
  return out;
}

describe("compiled binary: files at rest", () => {
  test("after prexor up nothing under the root is group/other accessible (controller.yml was written 0644 before start)", async () => {
    // a group over the embedded store writes the database, its WAL, the audit log
    expect((await api.call("POST", "/api/v1/groups", { name: "modes" })).status).toBe(201);
    expect(groupOrOtherAccessible(dir)).toEqual([]);
  });
});

describe("compiled binary: hostile input", () => {
  test("query parameters are integers in range, or 422", async () => {
    const refused = [
      "page=-5&pageSize=5000000",
      "page=0",
      "pageSize=501",
      "pageSize=-1",
      "page=1.5",
      "page=1234567890123456789012345",
    ];
    for (const path of ["/api/v1/groups", "/api/v1/audit", "/api/v1/crashes"]) {
      for (const q of refused) {
        const res = await api.call<Envelope>("GET", `${path}?${q}`);
        expect({ path, q, status: res.status, code: res.body.error?.code }).toEqual({
          path,
          q,
          status: 422,
          code: "VALIDATION_ERROR",
        });
      }
      const ok = await api.call<{ page: unknown; pageSize: unknown }>("GET", `${path}?page=2&pageSize=3`);
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ page: 2, pageSize: 3 });
    }
    const farOffset = await api.call<Envelope>("GET", "/api/v1/crashes?offset=1234567890123456789012345");
    expect(farOffset.status).toBe(422);
  });

  test("a 20,000-deep body to /auth/login is a 400 envelope that does not echo it", async () => {
    const res = await fetch(`${api.base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "[".repeat(20_000) + "]".repeat(20_000),
    });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect((JSON.parse(text) as Envelope).error.code).toBe("BAD_REQUEST");
    expect(text.length).toBeLessThan(400);
  });
});

describe("compiled binary: the bootstrap admin", () => {
  test("until it changes its generated password, every route but change-password, me and logout is 403 PASSWORD_CHANGE_REQUIRED", async () => {
    const root = tempDir();
    const port = await freePort();
    const other = startBinary([
      "up",
      "--dir",
      root,
      "--port",
      String(port),
      "--grpc-port",
      String(await freePort()),
    ]);
    try {
      await waitFor(() => ready(port), { timeoutMs: 30_000, what: "controller health" });
      const base = `http://127.0.0.1:${port}`;
      const password = readFileSync(
        await waitFor(
          () => {
            const f = join(root, "config/.initial-admin-password");
            return existsSync(f) ? f : undefined;
          },
          { what: "the password file" },
        ),
        "utf8",
      ).trim();
      const call = (method: string, path: string, token: string, body?: unknown) =>
        fetch(`${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      const login = async (pw: string) => {
        const res = await fetch(`${base}/api/v1/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: "admin", password: pw }),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as { token: string; user: { mustChangePassword: boolean } };
      };
      const first = await login(password);
      expect(first.user.mustChangePassword).toBe(true);
      for (const [method, path] of [
        ["GET", "/api/v1/groups"],
        ["GET", "/api/v1/users"],
        ["POST", "/api/v1/auth/refresh"],
      ] as const) {
        const res = await call(method, path, first.token);
        expect({ path, status: res.status, code: ((await res.json()) as Envelope).error.code }).toEqual({
          path,
          status: 403,
          code: "PASSWORD_CHANGE_REQUIRED",
        });
      }
      expect((await call("GET", "/api/v1/auth/me", first.token)).status).toBe(200);
      const changed = await call("POST", "/api/v1/auth/change-password", first.token, {
        currentPassword: password,
        newPassword: "a-password-of-my-own",
      });
      expect(changed.status).toBe(200);
      const second = await login("a-password-of-my-own");
      expect(second.user.mustChangePassword).toBe(false);
      expect((await call("GET", "/api/v1/groups", second.token)).status).toBe(200);
    } finally {
      await other.stop("SIGTERM");
    }
  });
});
