import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startTestController, type TestController } from "../../support/controller.ts";

let ctl: TestController;
let token: string;
beforeAll(async () => {
  ctl = await startTestController();
  token = await ctl.login();
});
afterAll(() => ctl.stop());

const jar = new TextEncoder().encode("PK\u0003\u0004 pretend this is a server jar");
const jarSha = new Bun.CryptoHasher("sha256").update(jar).digest("hex");

test("catalog entries: add, recommend one per platform, upload a verified artifact", async () => {
  const a = await ctl.call("POST", "/api/v1/catalog/paper/versions", {
    token,
    body: {
      version: "1.21.4-100",
      sha256: "a".repeat(64),
      url: "https://artifacts.example.org/paper-100.jar",
      recommended: true,
    },
  });
  expect(a.status).toBe(201);
  expect(await a.json()).toMatchObject({
    platform: "PAPER",
    version: "1.21.4-100",
    recommended: true,
    ready: true,
  });
  const b = await ctl.call("POST", "/api/v1/catalog/PAPER/versions", {
    token,
    body: { version: "1.21.4-101", sha256: jarSha },
  });
  expect(await b.json()).toMatchObject({ ready: false, source: null });
  expect(
    (
      await ctl.call("POST", "/api/v1/catalog/paper/versions", {
        token,
        body: { version: "1.21.4-101", sha256: jarSha },
      })
    ).status,
  ).toBe(409);
  expect(
    (
      await ctl.call("POST", "/api/v1/catalog/minecraftx/versions", {
        token,
        body: { version: "1", sha256: jarSha },
      })
    ).status,
  ).toBe(422);
  expect(
    (
      await ctl.call("POST", "/api/v1/catalog/paper/versions", {
        token,
        body: { version: "2", sha256: "nothex" },
      })
    ).status,
  ).toBe(422);

  const wrong = await fetch(`${ctl.url}/api/v1/catalog/paper/versions/1.21.4-101/artifact`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}` },
    body: new TextEncoder().encode("tampered"),
  });
  expect(wrong.status).toBe(422);
  expect(((await wrong.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe(
    "SHA256_MISMATCH",
  );
  const right = await fetch(`${ctl.url}/api/v1/catalog/paper/versions/1.21.4-101/artifact`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}` },
    body: jar,
  });
  expect(await right.json()).toMatchObject({ ready: true, source: { kind: "controller", file: jarSha } });
  expect(existsSync(join(ctl.root, "artifacts", jarSha))).toBe(true);

  await ctl.call("PUT", "/api/v1/catalog/paper/versions/1.21.4-101/recommended", { token });
  const list = (await (await ctl.call("GET", "/api/v1/catalog?platform=paper", { token })).json()) as {
    data: Array<{ version: string; recommended: boolean }>;
  };
  expect(list.data.map((e) => [e.version, e.recommended])).toEqual([
    ["1.21.4-100", false],
    ["1.21.4-101", true],
  ]);
  const patched = await ctl.call("PATCH", "/api/v1/catalog/paper/versions/1.21.4-101", {
    token,
    body: { sha256: "b".repeat(64) },
  });
  expect(await patched.json()).toMatchObject({ ready: false, source: null });
  expect((await ctl.call("DELETE", "/api/v1/catalog/paper/versions/1.21.4-100", { token })).status).toBe(200);
  expect((await ctl.call("DELETE", "/api/v1/catalog/paper/versions/1.21.4-100", { token })).status).toBe(404);
});
