import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SignatureRefused } from "../../../src/signing/refusal.ts";
import { signFileKeyed } from "../../../src/signing/sign.ts";
import { verifyArtifact } from "../../../src/signing/verify.ts";
import { type CosignAvailability, cosign, runCosign } from "../../support/cosign.ts";
import { tempDir } from "../../support/temp-dirs.ts";

/**
 * Interop with the real cosign CLI, both directions: what `cosign sign-blob --key --tlog-upload=false`
 * writes (legacy and protobuf bundle) verifies in ours under policy NONE in development, and our keyed
 * bundle verifies with `cosign verify-blob --key`. A tampered artifact fails in both.
 */
const TRUSTED_ROOT = resolve(import.meta.dir, "../../../src/signing/trust/public-good.trusted_root.json");
let peer: CosignAvailability;
let dir: string;

beforeAll(() => {
  peer = cosign();
  dir = tempDir("prexor-cosign-");
  writeFileSync(join(dir, "artifact.bin"), "module bytes\n".repeat(1000));
}, 25 * 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cosignOrSkip(): string | undefined {
  if (peer.skip) console.warn(peer.skip);
  return peer.path;
}

describe("cosign as a peer", () => {
  test("cosign sign-blob --key --tlog-upload=false verifies in ours (NONE, development)", async () => {
    const bin = cosignOrSkip();
    if (!bin) return;
    const env = { COSIGN_PASSWORD: "test-only" };
    expect(runCosign(bin, ["generate-key-pair"], { cwd: dir, env }).code).toBe(0);
    const keys = readFileSync(join(dir, "cosign.pub"), "utf8");
    for (const format of [[], ["--new-bundle-format"]]) {
      const bundlePath = join(dir, `cosign-${format.length}.json`);
      const signed = runCosign(
        bin,
        [
          "sign-blob",
          "--yes",
          "--key",
          "cosign.key",
          "--tlog-upload=false",
          ...format,
          "--bundle",
          bundlePath,
          "artifact.bin",
        ],
        { cwd: dir, env },
      );
      expect(signed.code, signed.out).toBe(0);
      const bundle = JSON.parse(readFileSync(bundlePath, "utf8"));
      const result = await verifyArtifact({
        artifact: { path: join(dir, "artifact.bin") },
        bundle,
        signer: { keys },
        rekorPolicy: "NONE",
        profile: "development",
      });
      expect(result.logEntries).toEqual([]);
      // The same bundle is not enough for production or for a log policy.
      await expect(
        verifyArtifact({
          artifact: { path: join(dir, "artifact.bin") },
          bundle,
          signer: { keys },
          rekorPolicy: "REQUIRE_SET",
          profile: "development",
        }),
      ).rejects.toMatchObject({ reason: "TLOG_ENTRY_MISSING" });
      const tampered = Buffer.from(readFileSync(join(dir, "artifact.bin")));
      tampered[5] = 0x21;
      const refusal = await verifyArtifact({
        artifact: { bytes: tampered },
        bundle,
        signer: { keys },
        rekorPolicy: "NONE",
        profile: "development",
      }).catch((err: unknown) => err);
      expect(refusal).toBeInstanceOf(SignatureRefused);
      expect((refusal as SignatureRefused).reason).toMatch(/ARTIFACT_DIGEST_MISMATCH|SIGNATURE_INVALID/);
    }
  }, 120_000);

  test("our keyed bundle and .sig verify with cosign verify-blob --key", async () => {
    const bin = cosignOrSkip();
    if (!bin) return;
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    writeFileSync(join(dir, "ours.pub"), publicKey.export({ type: "spki", format: "pem" }));
    const signed = await signFileKeyed(join(dir, "artifact.bin"), privateKey);
    writeFileSync(join(dir, "ours.sigstore.json"), JSON.stringify(signed.bundle));
    writeFileSync(join(dir, "ours.sig"), signed.signature);
    const bundleArgs = [
      "verify-blob",
      "--key",
      "ours.pub",
      "--bundle",
      "ours.sigstore.json",
      "--new-bundle-format",
    ];
    const offline = ["--trusted-root", TRUSTED_ROOT, "--insecure-ignore-tlog"];
    const ok = runCosign(bin, [...bundleArgs, ...offline, "artifact.bin"], { cwd: dir });
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toContain("Verified OK");
    const detached = runCosign(
      bin,
      [
        "verify-blob",
        "--key",
        "ours.pub",
        "--signature",
        "ours.sig",
        "--insecure-ignore-tlog",
        "artifact.bin",
      ],
      { cwd: dir },
    );
    expect(detached.code, detached.out).toBe(0);
    writeFileSync(join(dir, "other.bin"), "something else");
    const bad = runCosign(bin, [...bundleArgs, ...offline, "other.bin"], { cwd: dir });
    expect(bad.code).not.toBe(0);
  }, 120_000);
});
