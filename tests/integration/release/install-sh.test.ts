import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createSign, generateKeyPairSync } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { type BuiltRelease, HOST_TARGET, RELEASE_VERSION, sharedRelease } from "../../support/release.ts";
import { tempDir } from "../../support/temp-dirs.ts";

/**
 * install.sh against a release directory served on 127.0.0.1: a valid release installs and runs; every
 * tampering (archive, checksums.txt, signature by another key, no signature) and a missing openssl
 * is refused with one line on stderr and nothing written to the prefix.
 */
const ARCHIVE = `prexor-${RELEASE_VERSION}-${HOST_TARGET}.tar.gz`;
const TOOLS = [
  "sh",
  "uname",
  "curl",
  "tar",
  "gzip",
  "sha256sum",
  "mktemp",
  "rm",
  "grep",
  "head",
  "cut",
  "sed",
  "mkdir",
  "cp",
  "chmod",
  "mv",
  "ln",
  "cat",
];
let release: BuiltRelease;
let work: string;
let server: ReturnType<typeof Bun.serve>;
const cases = new Map<string, string>();

function which(tool: string): string {
  const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
  if (found.status !== 0) throw new Error(`${tool} is needed by the install.sh tests`);
  return found.stdout.trim();
}

/** A PATH holding only the named tools: the installer must not depend on anything else. */
function toolDir(name: string, tools: string[]): string {
  const dir = join(work, `bin-${name}`);
  mkdirSync(dir, { recursive: true });
  for (const tool of tools) symlinkSync(which(tool), join(dir, tool));
  return dir;
}

/** A copy of the release (hard links; files that a case changes are rewritten, not edited in place). */
function releaseCase(name: string, change?: (dir: string) => void): string {
  const dir = join(work, `case-${name}`);
  mkdirSync(dir);
  for (const file of readdirSync(release.dir)) linkSync(join(release.dir, file), join(dir, file));
  change?.(dir);
  cases.set(name, dir);
  return `http://127.0.0.1:${server.port}/${name}`;
}

function rewrite(file: string, bytes: Buffer | string): void {
  unlinkSync(file);
  writeFileSync(file, bytes);
}

interface Installed {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Asynchronous: the release server runs in this process, so a blocking spawn would starve it. */
async function run(
  script: string,
  base: string,
  prefix: string,
  path: string,
  extra: string[],
): Promise<Installed> {
  const child = Bun.spawn(["sh", script, "--prefix", prefix, ...extra], {
    env: { PATH: path, PREXOR_RELEASE_BASE: base, HOME: work },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill(), 60_000);
  const [stdout, stderr, status] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  return { status, stdout, stderr };
}

function install(base: string, prefix: string, path: string, extra: string[] = []): Promise<Installed> {
  return run(join(release.dir, "install.sh"), base, prefix, path, extra);
}

let fullPath: string;
let noOpenssl: string;

beforeAll(() => {
  release = sharedRelease();
  work = tempDir("prexor-install-");
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const [, name, ...rest] = new URL(req.url).pathname.split("/");
      const dir = cases.get(name ?? "");
      const file = dir && Bun.file(join(dir, rest.at(-1) ?? ""));
      return file && (await file.exists()) ? new Response(file) : new Response("not found", { status: 404 });
    },
  });
  fullPath = toolDir("full", [...TOOLS, "openssl"]);
  noOpenssl = toolDir("no-openssl", TOOLS);
}, 240_000);

afterAll(() => {
  server?.stop(true);
  rmSync(work, { recursive: true, force: true });
});

function expectRefused(result: Installed, prefix: string, reason: RegExp): void {
  expect(result.status).toBe(1);
  const lines = result.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^install\.sh: /);
  expect(lines[0]).toMatch(reason);
  expect(existsSync(prefix)).toBe(false);
}

describe("install.sh", () => {
  test("is POSIX sh and shellcheck clean", () => {
    const result = spawnSync(
      which("shellcheck"),
      ["-s", "sh", resolve(import.meta.dir, "../../../install.sh")],
      {
        encoding: "utf8",
      },
    );
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  test("a valid release installs prexor + prexorctl, and re-running is an idempotent upgrade", async () => {
    const base = releaseCase("valid");
    const prefix = join(work, "prefix-valid");
    const first = await install(base, prefix, fullPath, ["--version", RELEASE_VERSION]);
    expect(first.status, first.stderr).toBe(0);
    const version = spawnSync(join(prefix, "bin/prexor"), ["version"], { encoding: "utf8" });
    expect(version.stdout).toStartWith(`prexor ${RELEASE_VERSION} (commit `);
    expect(spawnSync(join(prefix, "bin/prexorctl"), ["--help"]).status).toBe(0);
    const again = await install(base, prefix, fullPath);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain("already installed");
    const dry = await install(base, join(work, "prefix-dry"), fullPath, ["--dry-run"]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("would install");
    expect(existsSync(join(work, "prefix-dry"))).toBe(false);
  }, 60_000);

  test("--role runs prexor setup with the remaining flags after installing", async () => {
    const base = releaseCase("role");
    const prefix = join(work, "prefix-role");
    const root = join(work, "root-role");
    const result = await install(base, prefix, fullPath, [
      "--role",
      "daemon",
      "--root",
      root,
      "--node-id",
      "from-installer",
      "--join-token",
      "pxr_test",
    ]);
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(join(prefix, "bin/prexor"))).toBe(true);
    expect(readFileSync(join(root, "etc/prexorcloud/daemon/daemon.yml"), "utf8")).toContain(
      "nodeId: from-installer",
    );
  }, 60_000);

  test("a tampered archive is refused by its checksum", async () => {
    const base = releaseCase("tampered-archive", (dir) => {
      const bytes = Buffer.from(readFileSync(join(dir, ARCHIVE)));
      bytes[bytes.length - 100] = (bytes[bytes.length - 100] as number) ^ 0xff;
      rewrite(join(dir, ARCHIVE), bytes);
    });
    const prefix = join(work, "prefix-tampered-archive");
    expectRefused(
      await install(base, prefix, fullPath),
      prefix,
      /SHA-256 mismatch for .*: expected [0-9a-f]{64}, got [0-9a-f]{64}/,
    );
  }, 60_000);

  test("a tampered checksums.txt is refused by its signature", async () => {
    const base = releaseCase("tampered-sums", (dir) => {
      const text = readFileSync(join(dir, "checksums.txt"), "utf8");
      rewrite(
        join(dir, "checksums.txt"),
        text.replace(/^./, (c) => (c === "0" ? "1" : "0")),
      );
    });
    const prefix = join(work, "prefix-tampered-sums");
    expectRefused(await install(base, prefix, fullPath), prefix, /signature does not verify/);
  }, 60_000);

  test("a signature by another key is refused", async () => {
    const base = releaseCase("other-key", (dir) => {
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const sig = createSign("sha256")
        .update(readFileSync(join(dir, "checksums.txt")))
        .sign(privateKey, "base64");
      rewrite(join(dir, "checksums.txt.sig"), sig);
    });
    const prefix = join(work, "prefix-other-key");
    expectRefused(
      await install(base, prefix, fullPath),
      prefix,
      /signature does not verify against the pinned release key/,
    );
  }, 60_000);

  test("a missing signature is refused", async () => {
    const base = releaseCase("no-signature", (dir) => unlinkSync(join(dir, "checksums.txt.sig")));
    const prefix = join(work, "prefix-no-signature");
    expectRefused(await install(base, prefix, fullPath), prefix, /missing signature/);
  }, 60_000);

  test("without openssl (and no cosign) nothing can verify: refused", async () => {
    const base = releaseCase("no-openssl");
    const prefix = join(work, "prefix-no-openssl");
    expectRefused(await install(base, prefix, noOpenssl), prefix, /cosign or openssl is required/);
  }, 60_000);

  test("an install.sh that pins no key refuses the openssl path", async () => {
    const base = releaseCase("unpinned");
    const prefix = join(work, "prefix-unpinned");
    const script = join(work, "install-unpinned.sh");
    copyFileSync(resolve(import.meta.dir, "../../../install.sh"), script);
    expectRefused(await run(script, base, prefix, fullPath, []), prefix, /pins no release key/);
  }, 60_000);
});
