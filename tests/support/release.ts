import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };

const repoRoot = resolve(import.meta.dir, "../..");
export const RELEASE_VERSION = pkg.version;

/** The host's own target, so the tests can run what they built. */
export const HOST_TARGET = `${process.platform === "darwin" ? "darwin" : "linux"}-${process.arch === "arm64" ? "arm64" : "x64"}`;

export interface BuiltRelease {
  /** dist/release/<version>-like directory holding the archives, checksums and signatures. */
  dir: string;
  publicKeyPem: string;
  privateKeyPath: string;
  seconds: number;
}

/**
 * Runs `bun run release` for one target (the host's) with a fresh test signing key, under
 * dist/test-release/<slot>/ (replaced on every run, so runs do not pile up ~200 MB each in /tmp).
 */
export function buildRelease(slot = "a", target = HOST_TARGET): BuiltRelease {
  const work = join(repoRoot, "dist/test-release", slot);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const privateKeyPath = join(work, "release.key");
  writeFileSync(privateKeyPath, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  const started = performance.now();
  const result = spawnSync(
    "bun",
    ["run", "build/release.ts", "--targets", target, "--key", privateKeyPath, "--out", join(work, "out")],
    { cwd: repoRoot, encoding: "utf8", timeout: 180_000 },
  );
  if (result.status !== 0) throw new Error(`release failed:\n${result.stdout}\n${result.stderr}`);
  return {
    dir: join(work, "out", RELEASE_VERSION),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    privateKeyPath,
    seconds: (performance.now() - started) / 1000,
  };
}

let shared: BuiltRelease | undefined;
/** One release per test process for the suites that only consume it (install.sh). */
export function sharedRelease(): BuiltRelease {
  shared ??= buildRelease();
  return shared;
}
