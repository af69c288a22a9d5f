import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { type KeyFinderFunc, type TrustMaterial, toTrustMaterial } from "@sigstore/verify";
import { SignatureRefused } from "./refusal.ts";
import publicGood from "./trust/public-good.trusted_root.json" with { type: "json" };

/**
 * Where trust comes from. Nothing set ⇒ the embedded public-good root (trust/PROVENANCE.md).
 * `trustedRootJson` replaces the whole root (Fulcio CAs, logs, CT logs, TSAs); `rekorPublicKeysPem`
 * then replaces only its transparency logs (a PEM file may hold several keys, for rotation).
 */
export interface TrustSources {
  trustedRootJson?: unknown;
  rekorPublicKeysPem?: string;
  /** Checkpoints name their log ("rekor.sigstore.dev"); a log built from a bare key needs that origin. */
  rekorBaseUrl?: string;
}

export const EMBEDDED_TRUSTED_ROOT: unknown = publicGood;

const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;

export function parsePublicKeys(pem: string, what: string): KeyObject[] {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new SignatureRefused("KEY_INVALID", `${what} holds no PUBLIC KEY block`);
  return blocks.map((block) => {
    try {
      return createPublicKey(block);
    } catch (err) {
      throw new SignatureRefused("KEY_INVALID", `${what}: ${(err as Error).message}`);
    }
  });
}

function keyDetails(key: KeyObject): string {
  if (key.asymmetricKeyType === "ed25519") return "PKIX_ED25519";
  if (key.asymmetricKeyType === "rsa") return "PKIX_RSA_PKCS1V15_2048_SHA256";
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === "prime256v1" || curve === "P-256") return "PKIX_ECDSA_P256_SHA_256";
  if (curve === "secp384r1" || curve === "P-384") return "PKIX_ECDSA_P384_SHA_384";
  throw new SignatureRefused(
    "KEY_INVALID",
    `unsupported Rekor key type ${key.asymmetricKeyType} ${curve ?? ""}`,
  );
}

export function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: "spki", format: "der" });
}

/** A Rekor v1 log is identified by the SHA-256 of its key's DER SubjectPublicKeyInfo. */
export function rekorLogId(key: KeyObject): Buffer {
  return createHash("sha256").update(spkiDer(key)).digest();
}

function tlogsFromKeys(keys: KeyObject[], baseUrl: string): unknown[] {
  return keys.map((key) => ({
    baseUrl,
    hashAlgorithm: "SHA2_256",
    publicKey: {
      rawBytes: spkiDer(key).toString("base64"),
      keyDetails: keyDetails(key),
      validFor: { start: "1970-01-01T00:00:00Z" },
    },
    logId: { keyId: rekorLogId(key).toString("base64") },
  }));
}

export function trustedRoot(sources: TrustSources): TrustedRoot {
  const json = structuredClone((sources.trustedRootJson ?? EMBEDDED_TRUSTED_ROOT) as Record<string, unknown>);
  if (sources.rekorPublicKeysPem !== undefined) {
    json.tlogs = tlogsFromKeys(
      parsePublicKeys(sources.rekorPublicKeysPem, "the Rekor public key file"),
      sources.rekorBaseUrl ?? "https://rekor.sigstore.dev",
    );
  }
  try {
    return TrustedRoot.fromJSON(json);
  } catch (err) {
    throw new SignatureRefused(
      "POLICY_INVALID",
      `the trusted root cannot be read: ${(err as Error).message}`,
    );
  }
}

/** Keyed verification: whatever hint the bundle carries, the signer key is the one the operator gave. */
export function trustMaterial(root: TrustedRoot, signerKey?: KeyObject): TrustMaterial {
  const finder: KeyFinderFunc | undefined = signerKey
    ? () => ({ publicKey: signerKey, validFor: () => true })
    : undefined;
  return toTrustMaterial(root, finder);
}
