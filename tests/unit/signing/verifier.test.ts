import { describe, expect, test } from "bun:test";
import { createHash, createSign, generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RefusalReason } from "../../../src/signing/refusal.ts";
import { SignatureRefused } from "../../../src/signing/refusal.ts";
import { type VerifyRequest, verifyArtifact } from "../../../src/signing/verify.ts";

/**
 * Every public fixture in shared/fixtures/sigstore verifies offline under the policy it supports, and
 * each mutation a tamperer could make is refused with the reason that names it.
 */
const FIXTURES = join(import.meta.dir, "../../../../shared/fixtures/sigstore");
const text = (p: string) => readFileSync(join(FIXTURES, p), "utf8");
// biome-ignore lint/suspicious/noExplicitAny: fixture JSON is mutated field by field, like a tamperer would
type Json = any;
const json = (p: string): Json => JSON.parse(text(p));
const bytes = (p: string) => readFileSync(join(FIXTURES, p));

const MANAGED = "conformance-managed-key-v03";
const V01 = "sigstore-js-v01-keyed-set-only";
const KEYLESS = "conformance-keyless-v03";
const KEYLESS_IDENTITY =
  "^https://github\\.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/\\.github/workflows/extremely-dangerous-oidc-beacon\\.yml@refs/heads/main$";
const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";

function managed(overrides: Partial<VerifyRequest> = {}): VerifyRequest {
  return {
    artifact: { bytes: bytes(`${MANAGED}/a.txt`) },
    bundle: json(`${MANAGED}/bundle.sigstore.json`),
    signer: { keys: text(`${MANAGED}/key.pub`) },
    rekorPolicy: "REQUIRE_INCLUSION_PROOF",
    profile: "production",
    ...overrides,
  };
}

function keyless(overrides: Partial<VerifyRequest> = {}): VerifyRequest {
  return {
    artifact: { path: join(FIXTURES, `${KEYLESS}/a.txt`) },
    bundle: json(`${KEYLESS}/happy-path-v0.3.bundle.sigstore.json`),
    signer: { identity: KEYLESS_IDENTITY, issuer: GITHUB_ISSUER },
    rekorPolicy: "REQUIRE_INCLUSION_PROOF",
    profile: "production",
    ...overrides,
  };
}

async function refusal(request: VerifyRequest): Promise<SignatureRefused> {
  try {
    await verifyArtifact(request);
  } catch (err) {
    if (err instanceof SignatureRefused) return err;
    throw err;
  }
  throw new Error("verification unexpectedly succeeded");
}

async function expectRefused(request: VerifyRequest, reason: RefusalReason): Promise<void> {
  const err = await refusal(request);
  expect(err.reason).toBe(reason);
  expect(err.message.length).toBeGreaterThan(20);
}

function flipBase64(b64: string, index = 10): string {
  const buf = Buffer.from(b64, "base64");
  buf[index] = (buf[index] as number) ^ 0x01;
  return buf.toString("base64");
}

const tlog0 = (bundle: Json): Json => bundle.verificationMaterial.tlogEntries[0];

function p256(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync("ec", { namedCurve: "P-256" });
}

describe("fixtures verify offline", () => {
  test("keyed v0.3 on production Rekor: inclusion proof + checkpoint against the embedded root", async () => {
    const result = await verifyArtifact(managed());
    expect(result.digest).toBe("a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf");
    expect(result.signer).toEqual({ kind: "key", keyIndex: 0 });
    expect(result.logEntries[0]?.evidence).toEqual(["SET", "INCLUSION_PROOF"]);
  });

  test("keyed v0.3 under REQUIRE_SET against a configured Rekor key alone (TSA stripped: that root has none)", async () => {
    const bundle = json(`${MANAGED}/bundle.sigstore.json`);
    bundle.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [] };
    const result = await verifyArtifact(
      managed({
        bundle,
        rekorPolicy: "REQUIRE_SET",
        trust: { trustedRootJson: json("_trust/trusted_root.rekor-only.json") },
      }),
    );
    expect(result.logEntries[0]?.logIndex).toBe("771488337");
  });

  test("cosign legacy --bundle JSON is converted and verified by its SET", async () => {
    const result = await verifyArtifact(
      managed({
        bundle: json(`${MANAGED}/legacy-cosign.bundle.derived.json`),
        rekorPolicy: "REQUIRE_SET",
        trust: { rekorPublicKeysPem: text("_trust/rekor.sigstore.dev.pub") },
      }),
    );
    expect(result.logEntries[0]?.evidence).toEqual(["SET"]);
  });

  test("the converted v0.1 derivative verifies against the Rekor-only root", async () => {
    const result = await verifyArtifact(
      managed({
        bundle: json(`${MANAGED}/legacy-cosign.converted-v0.1.derived.sigstore.json`),
        rekorPolicy: "REQUIRE_SET",
        trust: { trustedRootJson: json("_trust/trusted_root.rekor-only.json") },
      }),
    );
    expect(result.signer.kind).toBe("key");
  });

  test("keyed v0.1 with a SET only, against its trusted root (mock TSA)", async () => {
    const result = await verifyArtifact({
      artifact: { path: join(FIXTURES, `${V01}/artifact.txt`) },
      bundle: json(`${V01}/bundle.sigstore.json`),
      signer: { keys: text(`${V01}/key.pub`) },
      rekorPolicy: "REQUIRE_SET",
      profile: "production",
      trust: { trustedRootJson: json(`${V01}/trusted_root.sigstore-js-fixture.json`) },
    });
    expect(result.logEntries[0]?.evidence).toEqual(["SET"]);
  });

  test("keyless v0.1 cert variant against the embedded Fulcio roots", async () => {
    const bundle = json(`${V01}/cert-variant.bundle.sigstore.json`);
    bundle.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [] };
    const result = await verifyArtifact({
      artifact: { bytes: bytes(`${V01}/artifact.txt`) },
      bundle,
      signer: { identity: "^brian@dehamer\\.com$", issuer: "https://github.com/login/oauth" },
      rekorPolicy: "REQUIRE_SET",
      profile: "production",
    });
    expect(result.signer).toEqual({
      kind: "certificate",
      identity: "brian@dehamer.com",
      issuer: "https://github.com/login/oauth",
    });
  });

  test("keyless v0.3 (GitHub Actions identity) with inclusion proof against the embedded root", async () => {
    const result = await verifyArtifact(keyless());
    expect(result.signer.kind).toBe("certificate");
    expect(result.logEntries[0]?.evidence).toContain("INCLUSION_PROOF");
  });
});

describe("mutations are refused with the reason that names them", () => {
  test("a flipped signature byte", async () => {
    const bundle = json(`${MANAGED}/bundle.sigstore.json`);
    bundle.messageSignature.signature = flipBase64(bundle.messageSignature.signature, 20);
    await expectRefused(managed({ bundle }), "SIGNATURE_INVALID");
  });

  test("another (valid) key", async () => {
    await expectRefused(managed({ signer: { keys: text(`${V01}/key.pub`) } }), "SIGNATURE_INVALID");
  });

  test("a corrupted key file", async () => {
    await expectRefused(managed({ signer: { keys: text(`${MANAGED}/wrong-key.pub`) } }), "KEY_INVALID");
  });

  test("a tampered artifact", async () => {
    const artifact = Buffer.from(bytes(`${MANAGED}/a.txt`));
    artifact[0] = (artifact[0] as number) ^ 0x20;
    await expectRefused(managed({ artifact: { bytes: artifact } }), "ARTIFACT_DIGEST_MISMATCH");
    await expectRefused(
      managed({
        artifact: { bytes: artifact },
        bundle: json(`${MANAGED}/legacy-cosign.bundle.derived.json`),
        rekorPolicy: "REQUIRE_SET",
      }),
      "ARTIFACT_DIGEST_MISMATCH",
    );
  });

  test("a flipped SET byte, and a logIndex the SET was not issued for", async () => {
    const bundle = json(`${MANAGED}/bundle.sigstore.json`);
    const entry = tlog0(bundle);
    entry.inclusionPromise.signedEntryTimestamp = flipBase64(entry.inclusionPromise.signedEntryTimestamp);
    await expectRefused(managed({ bundle, rekorPolicy: "REQUIRE_SET" }), "SET_INVALID");
    const legacy = json(`${MANAGED}/legacy-cosign.bundle.derived.json`);
    legacy.rekorBundle.Payload.logIndex += 1;
    await expectRefused(managed({ bundle: legacy, rekorPolicy: "REQUIRE_SET" }), "SET_INVALID");
  });

  test("a SET from an unknown log key", async () => {
    // A forger's own "log": the SET is valid for its key, which nobody trusts.
    const forger = p256();
    const legacy = json(`${MANAGED}/legacy-cosign.bundle.derived.json`);
    const logId = createHash("sha256")
      .update(forger.publicKey.export({ type: "spki", format: "der" }))
      .digest("hex");
    const p = legacy.rekorBundle.Payload;
    const payload = `{"body":"${p.body}","integratedTime":${p.integratedTime},"logID":"${logId}","logIndex":${p.logIndex}}`;
    legacy.rekorBundle.Payload.logID = logId;
    legacy.rekorBundle.SignedEntryTimestamp = createSign("sha256")
      .update(payload)
      .sign(forger.privateKey, "base64");
    await expectRefused(managed({ bundle: legacy, rekorPolicy: "REQUIRE_SET" }), "LOG_KEY_UNKNOWN");
    // The genuine entry against a configuration that trusts another log only.
    await expectRefused(
      managed({
        bundle: json(`${MANAGED}/legacy-cosign.bundle.derived.json`),
        rekorPolicy: "REQUIRE_SET",
        trust: { rekorPublicKeysPem: forger.publicKey.export({ type: "spki", format: "pem" }).toString() },
      }),
      "LOG_KEY_UNKNOWN",
    );
  });

  test("an inclusion-proof hash off by one", async () => {
    const bundle = json(`${MANAGED}/bundle.sigstore.json`);
    const proof = tlog0(bundle).inclusionProof;
    const hash = Buffer.from(proof.hashes[3], "base64");
    hash[31] = ((hash[31] as number) + 1) & 0xff;
    proof.hashes[3] = hash.toString("base64");
    await expectRefused(managed({ bundle }), "INCLUSION_PROOF_MISMATCH");
    const keylessBundle = json(`${KEYLESS}/happy-path-v0.3.bundle.sigstore.json`);
    const keylessProof = tlog0(keylessBundle).inclusionProof;
    keylessProof.hashes[0] = flipBase64(keylessProof.hashes[0], 31);
    await expectRefused(keyless({ bundle: keylessBundle }), "INCLUSION_PROOF_MISMATCH");
  });

  test("a checkpoint signed by another key", async () => {
    const bundle = json(`${MANAGED}/bundle.sigstore.json`);
    const checkpoint = tlog0(bundle).inclusionProof.checkpoint;
    const [note] = (checkpoint.envelope as string).split("\n\n");
    const other = p256();
    // Same log name and key hint as the real signature line, signature by someone else's key.
    const keyHint = Buffer.from(tlog0(bundle).logId.keyId, "base64").subarray(0, 4);
    const signature = createSign("sha256").update(`${note}\n`).sign(other.privateKey);
    checkpoint.envelope = `${note}\n\n— rekor.sigstore.dev ${Buffer.concat([keyHint, signature]).toString("base64")}\n`;
    await expectRefused(managed({ bundle }), "CHECKPOINT_INVALID");
  });

  test("a keyless identity or issuer that does not match", async () => {
    await expectRefused(
      keyless({ signer: { identity: "^https://github\\.com/prexorjustin/", issuer: GITHUB_ISSUER } }),
      "IDENTITY_NOT_ALLOWED",
    );
    await expectRefused(
      keyless({ signer: { identity: KEYLESS_IDENTITY, issuer: "https://accounts.google.com" } }),
      "IDENTITY_NOT_ALLOWED",
    );
    // Anchored: a pattern that only matches in the middle of the SAN is not enough.
    await expectRefused(
      keyless({ signer: { identity: "sigstore-conformance/extremely-dangerous", issuer: GITHUB_ISSUER } }),
      "IDENTITY_NOT_ALLOWED",
    );
  });

  test("a certificate outside its validity at the integrated time", async () => {
    const bundle = json(`${KEYLESS}/happy-path-v0.3.bundle.sigstore.json`);
    const entry = tlog0(bundle);
    entry.integratedTime = String(Number(entry.integratedTime) + 86_400);
    await expectRefused(keyless({ bundle }), "CERTIFICATE_OUTSIDE_VALIDITY");
  });

  test("REQUIRE_SET / REQUIRE_INCLUSION_PROOF on a bundle without that evidence", async () => {
    const bundle = json(`${MANAGED}/bundle.sigstore.json`);
    bundle.verificationMaterial.tlogEntries = [];
    await expectRefused(managed({ bundle, rekorPolicy: "REQUIRE_SET" }), "TLOG_ENTRY_MISSING");
    await expectRefused(
      managed({
        artifact: { bytes: bytes(`${V01}/artifact.txt`) },
        bundle: json(`${V01}/bundle.sigstore.json`),
        signer: { keys: text(`${V01}/key.pub`) },
        trust: { trustedRootJson: json(`${V01}/trusted_root.sigstore-js-fixture.json`) },
      }),
      "TLOG_ENTRY_MISSING",
    );
  });

  test("policy NONE is refused in production, accepted in development", async () => {
    await expectRefused(managed({ rekorPolicy: "NONE" }), "REKOR_POLICY_REFUSED");
    const result = await verifyArtifact(managed({ rekorPolicy: "NONE", profile: "development" }));
    expect(result.rekorPolicy).toBe("NONE");
  });

  test("garbage is a bundle error, not a crash", async () => {
    await expectRefused(managed({ bundle: { mediaType: "nope" } }), "BUNDLE_INVALID");
    await expectRefused(managed({ bundle: { base64Signature: "AAAA", rekorBundle: {} } }), "BUNDLE_INVALID");
    await expectRefused(keyless({ signer: { identity: "([", issuer: GITHUB_ISSUER } }), "POLICY_INVALID");
  });
});
