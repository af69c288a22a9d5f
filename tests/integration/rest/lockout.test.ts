import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestController, TEST_ADMIN_PASSWORD, type TestController } from "../../support/controller.ts";

let ctl: TestController;

beforeAll(async () => {
  // Requests arrive from 127.0.0.1, a trusted proxy: X-Forwarded-For names the source address.
  ctl = await startTestController(
    ["  lockout:", "    maxAttempts: 5", "    accountMaxAttempts: 8"].join("\n"),
    (c) => {
      c.http.trustedProxyCidrs = ["127.0.0.1/32"];
    },
  );
});
afterAll(() => ctl.stop());

/** `prexor admin unlock` as its own process; async, since the controller under test shares this event loop. */
async function adminUnlock(user: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(
    ["bun", join(import.meta.dir, "../../../src/main.ts"), "admin", "unlock", user, "--dir", ctl.root],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const timer = setTimeout(() => proc.kill(), 30_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

async function login(from: string, password: string): Promise<number> {
  const res = await ctl.call("POST", "/api/v1/auth/login", {
    body: { username: "admin", password },
    headers: { "x-forwarded-for": from },
  });
  await res.arrayBuffer();
  return res.status;
}

describe("lockout per (account, source address) with an account-wide ceiling", () => {
  test("five bad passwords lock the account for that address only; the operator elsewhere logs in", async () => {
    for (let i = 0; i < 4; i++) expect(await login("10.0.0.1", `wrong-${i}`)).toBe(401);
    expect(await login("10.0.0.1", "wrong-4")).toBe(429);
    expect(await login("10.0.0.1", TEST_ADMIN_PASSWORD)).toBe(429);
    expect(await login("10.0.0.2", TEST_ADMIN_PASSWORD)).toBe(200);
  });

  test("the account-wide ceiling locks every address; `prexor admin unlock` on the host lifts it", async () => {
    // 5 failures so far; 3 more from three other addresses reach the ceiling of 8
    expect(await login("10.0.1.1", "wrong")).toBe(401);
    expect(await login("10.0.1.2", "wrong")).toBe(401);
    expect(await login("10.0.1.3", "wrong")).toBe(429);
    expect(await login("10.0.0.3", TEST_ADMIN_PASSWORD)).toBe(429);

    const run = await adminUnlock("admin");
    expect({ code: run.code, out: run.stdout.trim() }).toEqual({
      code: 0,
      out: 'unlocked "admin": the account-wide login lock is lifted',
    });
    expect(await login("10.0.0.3", TEST_ADMIN_PASSWORD)).toBe(200);
    // the address that guessed stays locked for itself
    expect(await login("10.0.0.1", TEST_ADMIN_PASSWORD)).toBe(429);
  });

  test("`prexor admin unlock` refuses a malformed username", async () => {
    const run = await adminUnlock("../etc");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("is not a valid username");
  });
});
