import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { testCacheDir } from "./servers.ts";

/**
 * The real cosign CLI as a peer, built once from the Go module proxy into the test cache
 * (~/.cache/prexorcloud-test/cosign-<version>/cosign) like the test MongoDB server, so later runs pay
 * nothing. PREXOR_TEST_COSIGN points at a cosign you installed yourself.
 */
export const COSIGN_VERSION = "v2.6.1";

export type CosignAvailability = { path: string; skip?: undefined } | { path?: undefined; skip: string };

function goBinary(): string | undefined {
  for (const candidate of [
    process.env.GOROOT && join(process.env.GOROOT, "bin/go"),
    "/usr/local/go/bin/go",
  ]) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  const found = spawnSync("sh", ["-c", "command -v go"], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

let cached: CosignAvailability | undefined;

export function cosign(): CosignAvailability {
  cached ??= locate();
  return cached;
}

function locate(): CosignAvailability {
  if (process.env.PREXOR_TEST_COSIGN) return { path: process.env.PREXOR_TEST_COSIGN };
  const dir = join(testCacheDir, `cosign-${COSIGN_VERSION}`);
  const bin = join(dir, "cosign");
  if (existsSync(bin)) return { path: bin };
  const go = goBinary();
  if (!go) return unavailable("go not found (needed once to build cosign from the module proxy)");
  // Build into a scratch dir and rename: a build killed half-way never leaves a broken binary.
  const scratch = `${dir}.partial-${process.pid}`;
  mkdirSync(scratch, { recursive: true });
  const built = spawnSync(
    go,
    ["install", "-trimpath", "-ldflags=-s -w", `github.com/sigstore/cosign/v2/cmd/cosign@${COSIGN_VERSION}`],
    {
      encoding: "utf8",
      env: { ...process.env, GOBIN: scratch, CGO_ENABLED: "0", GOFLAGS: "-mod=mod" },
      timeout: 20 * 60_000,
    },
  );
  if (built.status !== 0 || !existsSync(join(scratch, "cosign"))) {
    rmSync(scratch, { recursive: true, force: true });
    return unavailable(`go install cosign ${COSIGN_VERSION} failed: ${`${built.stderr}`.slice(-1500)}`);
  }
  mkdirSync(dir, { recursive: true });
  renameSync(join(scratch, "cosign"), bin);
  rmSync(scratch, { recursive: true, force: true });
  return { path: bin };
}

function unavailable(why: string): CosignAvailability {
  const message = `cosign unavailable (${why}); set PREXOR_TEST_COSIGN`;
  if (process.env.CI === "true") throw new Error(`${message} — a missing peer is a failure in CI`);
  console.warn(`skipping cosign interop: ${message}`);
  return { skip: message };
}

export function runCosign(
  bin: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): { code: number | null; out: string } {
  const result = spawnSync(bin, args, {
    cwd: options.cwd,
    encoding: "utf8",
    // cosign tries the TUF CDN first and then continues with what it was given; no network is used.
    env: { ...process.env, HOME: options.cwd, ...options.env },
    timeout: 60_000,
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}
