import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { verifyArtifact } from "../../../src/signing/verify.ts";
import { cosign, runCosign } from "../../support/cosign.ts";
import {
  type BuiltRelease,
  buildRelease,
  HOST_TARGET,
  RELEASE_VERSION,
  sharedRelease,
} from "../../support/release.ts";
import { tempDir } from "../../support/temp-dirs.ts";

/**
 * `bun run release` for the host target: the archive holds what an operator needs, the same commit
 * gives the same bytes, and checksums.txt's signature verifies in ours, with openssl and with cosign.
 */
const ARCHIVE = `prexor-${RELEASE_VERSION}-${HOST_TARGET}.tar.gz`;
const TRUSTED_ROOT = resolve(import.meta.dir, "../../../src/signing/trust/public-good.trusted_root.json");
let first: BuiltRelease;
let extract: string;

beforeAll(() => {
  first = sharedRelease();
  extract = tempDir("prexor-release-x-");
}, 240_000);

afterAll(() => rmSync(extract, { recursive: true, force: true }));

/** The archive's entries whose contents differ between two builds (sha256 of each extracted file). */
function differingEntries(a: string, b: string): string[] {
  const sums = (dir: string) => {
    const into = tempDir("prexor-release-cmp-");
    spawnSync("tar", ["xzf", join(dir, ARCHIVE), "-C", into]);
    const out = spawnSync("sh", ["-c", "find . -type f -print0 | sort -z | xargs -0 sha256sum"], {
      cwd: into,
      encoding: "utf8",
    }).stdout;
    rmSync(into, { recursive: true, force: true });
    return new Map(
      out
        .trim()
        .split("\n")
        .map((l) => [l.slice(66), l.slice(0, 64)] as const),
    );
  };
  const [x, y] = [sums(a), sums(b)];
  const names = [...new Set([...x.keys(), ...y.keys()])].sort();
  const differ = names.filter((n) => x.get(n) !== y.get(n));
  return differ.length > 0 ? differ : ["none (the tar or gzip framing differs)"];
}

describe("bun run release", () => {
  test("the archive holds the binary, the prexorctl link, LICENSE, README, units and completions (owner 0:0)", () => {
    const listing = spawnSync("tar", ["tvzf", join(first.dir, ARCHIVE)], { encoding: "utf8" }).stdout;
    const base = `prexor-${RELEASE_VERSION}-${HOST_TARGET}`;
    for (const entry of [
      "prexor",
      "prexorctl -> prexor",
      "LICENSE",
      "README.md",
      "systemd/prexorcloud-controller.service",
      "systemd/prexorcloud-daemon.service",
      "completions/prexorctl.bash",
      "completions/_prexorctl.zsh",
      "completions/prexorctl.fish",
    ])
      expect(listing).toContain(`${base}/${entry}`);
    for (const line of listing.trim().split("\n")) expect(line).toMatch(/^\S+ 0\/0 /);
    expect(spawnSync("tar", ["xzf", join(first.dir, ARCHIVE), "-C", extract]).status).toBe(0);
    const version = spawnSync(join(extract, base, "prexorctl"), ["version"], { encoding: "utf8" });
    const prexor = spawnSync(join(extract, base, "prexor"), ["version"], { encoding: "utf8" });
    expect(prexor.stdout).toMatch(
      new RegExp(
        `^prexor ${RELEASE_VERSION.replaceAll(".", "\\.")} \\(commit [0-9a-f]{7,}, built \\d{4}-\\d\\d-\\d\\dT`,
      ),
    );
    expect(version.status).toBe(0);
    const unit = readFileSync(join(extract, base, "systemd/prexorcloud-daemon.service"), "utf8");
    expect(unit).toContain("LimitNOFILE=131072");
    expect(unit).toContain("TasksMax=infinity");
  });

  test("the same commit builds the same bytes", () => {
    const second = buildRelease("b");
    console.log(`release (${HOST_TARGET}) built in ${second.seconds.toFixed(1)} s`);
    const same = readFileSync(join(second.dir, ARCHIVE)).equals(readFileSync(join(first.dir, ARCHIVE)));
    // On a mismatch, name the entries that differ: the archive alone says nothing about why.
    expect(
      same,
      same ? "" : `entries that differ: ${differingEntries(first.dir, second.dir).join(", ")}`,
    ).toBe(true);
    expect(readFileSync(join(second.dir, "checksums.txt"), "utf8")).toBe(
      readFileSync(join(first.dir, "checksums.txt"), "utf8"),
    );
  }, 240_000);

  test("checksums.txt matches the archive and its signature verifies (ours, openssl, cosign)", async () => {
    const check = spawnSync("sha256sum", ["-c", "checksums.txt"], { cwd: first.dir, encoding: "utf8" });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const bundle = JSON.parse(readFileSync(join(first.dir, "checksums.txt.sigstore.json"), "utf8"));
    const ours = await verifyArtifact({
      artifact: { path: join(first.dir, "checksums.txt") },
      bundle,
      signer: { keys: readFileSync(join(first.dir, "checksums.txt.pem"), "utf8") },
      rekorPolicy: "NONE",
      profile: "development",
    });
    expect(ours.signer.kind).toBe("key");
    const der = join(extract, "sig.der");
    writeFileSync(der, Buffer.from(readFileSync(join(first.dir, "checksums.txt.sig"), "utf8"), "base64"));
    const openssl = spawnSync(
      "openssl",
      ["dgst", "-sha256", "-verify", "checksums.txt.pem", "-signature", der, "checksums.txt"],
      { cwd: first.dir, encoding: "utf8" },
    );
    expect(openssl.stdout.trim()).toBe("Verified OK");
    const peer = cosign();
    if (!peer.path) return;
    const verified = runCosign(
      peer.path,
      [
        "verify-blob",
        "--key",
        "checksums.txt.pem",
        "--bundle",
        "checksums.txt.sigstore.json",
        "--new-bundle-format",
        "--trusted-root",
        TRUSTED_ROOT,
        "--insecure-ignore-tlog",
        "checksums.txt",
      ],
      { cwd: first.dir },
    );
    expect(verified.code, verified.out).toBe(0);
  }, 120_000);
});
