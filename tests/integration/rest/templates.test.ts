import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { zipSync } from "fflate";
import { hashTemplateFiles } from "../../../src/core/templates/template-hash.ts";
import { startTestController, type TestController } from "../../support/controller.ts";
import { tarGz } from "../../support/tar-builder.ts";

let ctl: TestController;
let token: string;
beforeAll(async () => {
  ctl = await startTestController();
  token = await ctl.login();
  expect(
    (
      await ctl.call("POST", "/api/v1/templates", {
        token,
        body: { name: "lobby", description: "hub world" },
      })
    ).status,
  ).toBe(201);
});
afterAll(() => ctl.stop());

function upload(name: string, bytes: Uint8Array) {
  return fetch(`${ctl.url}/api/v1/templates/${name}/versions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
    body: bytes,
  });
}

const incomingLeftovers = () => {
  const dir = join(ctl.root, "templates/.incoming");
  return existsSync(dir) ? readdirSync(dir).length : 0;
};

describe("template versions", () => {
  test("a tar.gz upload becomes the current version, named by the content hash", async () => {
    const files = [
      { path: "server.properties", content: "motd=Lobby\nmax-players=50\n" },
      { path: "plugins/config.yml", content: "enabled: true\n" },
    ];
    const res = await upload("lobby", tarGz([{ path: "plugins/", type: "dir" }, ...files]));
    expect(res.status).toBe(201);
    const version = (await res.json()) as {
      hash: string;
      fileCount: number;
      sizeBytes: number;
      createdBy: string;
    };
    const expected = hashTemplateFiles(
      files.map((f) => ({ path: f.path, bytes: new TextEncoder().encode(f.content) })),
    );
    expect(version).toMatchObject({ hash: expected, fileCount: 2, createdBy: "admin" });
    expect(readFileSync(join(ctl.root, "templates/lobby", expected, "plugins/config.yml"), "utf8")).toBe(
      "enabled: true\n",
    );
    const template = (await (await ctl.call("GET", "/api/v1/templates/lobby", { token })).json()) as {
      currentHash: string;
    };
    expect(template.currentHash).toBe(expected);
    // the same content again is the same version
    expect((await upload("lobby", tarGz(files))).status).toBe(200);
  });

  test("a zip upload works too; rollback returns to the previous version; the current one cannot be deleted", async () => {
    const before = (await (await ctl.call("GET", "/api/v1/templates/lobby", { token })).json()) as {
      currentHash: string;
    };
    const zip = zipSync({ "server.properties": new TextEncoder().encode("motd=New\n") });
    const res = await upload("lobby", zip);
    expect(res.status).toBe(201);
    const next = ((await res.json()) as { hash: string }).hash;
    const versions = (await (
      await ctl.call("GET", "/api/v1/templates/lobby/versions", { token })
    ).json()) as { data: Array<{ hash: string }> };
    expect(versions.data.map((v) => v.hash)).toEqual([next, before.currentHash]);
    expect((await ctl.call("DELETE", `/api/v1/templates/lobby/versions/${next}`, { token })).status).toBe(
      409,
    );
    const rolled = await ctl.call("POST", "/api/v1/templates/lobby/rollback", { token, body: {} });
    expect(await rolled.json()).toEqual({ from: next, to: before.currentHash });
    const files = (await (await ctl.call("GET", "/api/v1/templates/lobby/files", { token })).json()) as {
      data: Array<{ path: string }>;
    };
    expect(files.data.map((f) => f.path).sort()).toEqual(["plugins/config.yml", "server.properties"]);
    expect((await ctl.call("DELETE", `/api/v1/templates/lobby/versions/${next}`, { token })).status).toBe(
      200,
    );
    expect(existsSync(join(ctl.root, "templates/lobby", next))).toBe(false);
  });

  const bad: Array<[string, () => Uint8Array, string]> = [
    ["an absolute path", () => tarGz([{ path: "/etc/passwd", content: "x" }]), "unsafe path"],
    [
      "a .. segment",
      () =>
        tarGz([
          { path: "ok.txt", content: "x" },
          { path: "a/../../escape.txt", content: "x" },
        ]),
      "unsafe path",
    ],
    [
      "a symlink",
      () => tarGz([{ path: "link", type: "symlink", linkTarget: "/etc/shadow" }]),
      "SymbolicLink",
    ],
    ["a hard link", () => tarGz([{ path: "link", type: "hardlink", linkTarget: "../../x" }]), "Link"],
    ["a zip with ..", () => zipSync({ "../evil.txt": new Uint8Array([1]) }), "unsafe path"],
    [
      "not an archive",
      () => new TextEncoder().encode("hello, definitely not gzip"),
      "expected a .tar.gz or .zip",
    ],
    [
      "a truncated gzip",
      () => tarGz([{ path: "a.txt", content: "x".repeat(10_000) }]).subarray(0, 40),
      "archive refused",
    ],
    [
      "duplicate entries",
      () =>
        tarGz([
          { path: "a.txt", content: "1" },
          { path: "./a.txt", content: "2" },
        ]),
      "duplicate entry",
    ],
    // issue 12.4: archives that used to become a current version with no files, or a 500
    ["just PK", () => new Uint8Array([0x50, 0x4b]), "no end-of-central-directory"],
    [
      "PK and random bytes",
      () => new Uint8Array([0x50, 0x4b, ...crypto.getRandomValues(new Uint8Array(500))]),
      "archive refused",
    ],
    [
      "a zip cut to 40 bytes",
      () => zipSync({ "a.txt": new TextEncoder().encode("x".repeat(1000)) }).subarray(0, 40),
      "no end-of-central-directory",
    ],
    [
      "a zip without its central directory",
      () => {
        const whole = zipSync({ "a.txt": new TextEncoder().encode("hello"), "b.txt": new Uint8Array(10) });
        return whole.subarray(0, whole.byteLength - 30);
      },
      "no end-of-central-directory",
    ],
    ["an empty zip", () => zipSync({}), "holds no files"],
    ["a zip of only a directory", () => zipSync({ "dir/": new Uint8Array(0) }), "holds no files"],
    ["an empty tar.gz", () => tarGz([]), "archive refused"],
    [
      "a file and a directory of one name",
      () => zipSync({ conf: new Uint8Array([1]), "conf/inner.txt": new Uint8Array([2]) }),
      '"conf" is both a file and a directory',
    ],
    [
      "a symlink-typed entry with a file below it",
      () =>
        zipSync({
          ln: [new TextEncoder().encode("/etc"), { os: 3, attrs: 0o120777 << 16 }],
          "ln/x": new Uint8Array([1]),
        }),
      '"ln" is both a file and a directory',
    ],
    [
      "a 300-character name",
      () => zipSync({ [`${"a".repeat(300)}.txt`]: new Uint8Array([1]) }),
      "longer than 255",
    ],
    [
      "a 2,100-segment path",
      () => zipSync({ [`${"d/".repeat(2100)}f.txt`]: new Uint8Array([1]) }),
      "too long",
    ],
    ["a newline in a name", () => zipSync({ "bad\nname.txt": new Uint8Array([1]) }), "control characters"],
    ["an ESC in a name", () => zipSync({ "bad\u001b[31mname": new Uint8Array([1]) }), "control characters"],
    ["a BEL in a name", () => tarGz([{ path: "bell\u0007.txt", content: "x" }]), "control characters"],
  ];
  for (const [name, build, message] of bad) {
    test(`an archive with ${name} is refused whole, nothing written`, async () => {
      const before = (await (
        await ctl.call("GET", "/api/v1/templates/lobby/versions", { token })
      ).json()) as { data: unknown[] };
      const currentBefore = (
        (await (await ctl.call("GET", "/api/v1/templates/lobby", { token })).json()) as {
          currentHash: unknown;
        }
      ).currentHash;
      const res = await upload("lobby", build());
      expect(res.status).toBe(422);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("VALIDATION_ERROR");
      expect(body.error.message).toContain(message);
      const after = (await (await ctl.call("GET", "/api/v1/templates/lobby/versions", { token })).json()) as {
        data: unknown[];
      };
      expect(after.data.length).toBe(before.data.length);
      const currentAfter = (
        (await (await ctl.call("GET", "/api/v1/templates/lobby", { token })).json()) as {
          currentHash: unknown;
        }
      ).currentHash;
      expect(currentAfter).toBe(currentBefore);
      expect(incomingLeftovers()).toBe(0);
      expect(existsSync("/tmp/escape.txt")).toBe(false);
    });
  }

  test("uploads to an unknown template are 404; templates in use by a group cannot be deleted", async () => {
    expect((await upload("ghost", tarGz([{ path: "a", content: "b" }]))).status).toBe(404);
    await ctl.call("POST", "/api/v1/groups", { token, body: { name: "hub", templates: ["lobby"] } });
    const refused = await ctl.call("DELETE", "/api/v1/templates/lobby", { token });
    expect(refused.status).toBe(409);
    await ctl.call("DELETE", "/api/v1/groups/hub", { token });
    expect((await ctl.call("DELETE", "/api/v1/templates/lobby", { token })).status).toBe(200);
    expect(existsSync(join(ctl.root, "templates/lobby"))).toBe(false);
  });
});
