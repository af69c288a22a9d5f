import { type KeyObject, X509Certificate } from "node:crypto";
import { type Bundle, bundleFromJSON } from "@sigstore/bundle";
import { HashAlgorithm } from "@sigstore/protobuf-specs";
import { type SignedEntity, toSignedEntity, type VerificationPolicy, Verifier } from "@sigstore/verify";
import { type ArtifactSource, checkArtifact } from "./artifact.ts";
import { isLegacyCosignBundle, legacyToBundleV01 } from "./legacy-bundle.ts";
import { type RefusalReason, SignatureRefused } from "./refusal.ts";
import { parsePublicKeys, spkiDer, type TrustSources, trustedRoot, trustMaterial } from "./trust-material.ts";

/**
 * The one offline verifier: artifact + bundle + trust policy → the signer, or a SignatureRefused that
 * names the reason. Built on @sigstore/verify's building blocks with a trust root we hold; it never
 * calls sigstore.verify(), which fetches the trust root over TUF.
 *
 * Rekor policies:
 * - REQUIRE_SET: a log entry whose SignedEntryTimestamp verifies against a trusted log key.
 * - REQUIRE_INCLUSION_PROOF: a log entry whose Merkle inclusion proof leads to a checkpoint signed by a
 *   trusted log key (checked offline; a SET, when present too, is checked as well).
 * - NONE: no log evidence required (entries that are present are still checked); refused in production.
 */
export type RekorPolicy = "REQUIRE_SET" | "REQUIRE_INCLUSION_PROOF" | "NONE";
export const REKOR_POLICIES: readonly RekorPolicy[] = ["REQUIRE_SET", "REQUIRE_INCLUSION_PROOF", "NONE"];

export type SignerPolicy =
  /** PEM with one or more PUBLIC KEY blocks; any of them may have signed. */
  | { keys: string }
  /** Keyless: the Fulcio certificate's SAN must match `identity` (anchored at the start), issuer exactly. */
  | { identity: string; issuer: string };

export interface VerifyRequest {
  artifact: ArtifactSource;
  /** Parsed bundle JSON: Sigstore bundle v0.1–v0.3 or cosign's legacy --bundle file. */
  bundle: unknown;
  signer: SignerPolicy;
  rekorPolicy: RekorPolicy;
  profile: "development" | "production";
  trust?: TrustSources;
}

export interface VerifiedSignature {
  /** Hex SHA-256 (or the bundle's digest algorithm) of the artifact. */
  digest: string;
  signer: { kind: "key"; keyIndex: number } | { kind: "certificate"; identity: string; issuer: string };
  logEntries: { logIndex: string; integratedTime: number; evidence: ("SET" | "INCLUSION_PROOF")[] }[];
  rekorPolicy: RekorPolicy;
}

const HASH_NAMES: Partial<Record<HashAlgorithm, string>> = {
  [HashAlgorithm.HASH_ALGORITHM_UNSPECIFIED]: "sha256",
  [HashAlgorithm.SHA2_256]: "sha256",
  [HashAlgorithm.SHA2_384]: "sha384",
  [HashAlgorithm.SHA2_512]: "sha512",
};

function parseBundle(json: unknown): Bundle {
  try {
    return bundleFromJSON(json);
  } catch (err) {
    const fields = (err as { fields?: string[] }).fields;
    throw new SignatureRefused(
      "BUNDLE_INVALID",
      `${(err as Error).message}${fields?.length ? ` (${fields.join(", ")})` : ""}`,
    );
  }
}

/** The bundle's signature and leaf certificate, read before conversion so the artifact is read once. */
function rawSignature(json: unknown): { signature: Buffer; certificate?: X509Certificate; bundle?: Bundle } {
  if (isLegacyCosignBundle(json)) {
    const cert = json.cert ? Buffer.from(json.cert, "base64") : undefined;
    return {
      signature: Buffer.from(json.base64Signature, "base64"),
      certificate: cert && readCertificate(cert),
    };
  }
  const bundle = parseBundle(json);
  if (bundle.content.$case !== "messageSignature")
    throw new SignatureRefused(
      "BUNDLE_INVALID",
      "a DSSE bundle signs an attestation, not an artifact's bytes",
    );
  const material = bundle.verificationMaterial.content;
  const der =
    material.$case === "certificate"
      ? material.certificate.rawBytes
      : material.$case === "x509CertificateChain"
        ? material.x509CertificateChain.certificates[0]?.rawBytes
        : undefined;
  return {
    signature: Buffer.from(bundle.content.messageSignature.signature),
    certificate: der ? readCertificate(Buffer.from(der)) : undefined,
    bundle,
  };
}

function readCertificate(bytes: Buffer): X509Certificate {
  try {
    return new X509Certificate(bytes);
  } catch (err) {
    throw new SignatureRefused(
      "BUNDLE_INVALID",
      `the signing certificate cannot be read: ${(err as Error).message}`,
    );
  }
}

function identityPattern(identity: string): RegExp {
  try {
    return new RegExp(identity.startsWith("^") ? identity : `^${identity}`);
  } catch (err) {
    throw new SignatureRefused(
      "POLICY_INVALID",
      `--identity is not a regular expression: ${(err as Error).message}`,
    );
  }
}

/** sigstore-js errors carry a code and a short message; both decide which of our reasons it is. */
function refusalFrom(err: unknown): SignatureRefused {
  if (err instanceof SignatureRefused) return err;
  const code = (err as { code?: string }).code ?? "";
  const message = (err as Error).message ?? String(err);
  const reason: RefusalReason = (() => {
    switch (code) {
      case "SIGNATURE_ERROR":
        return "SIGNATURE_INVALID";
      case "TLOG_INCLUSION_PROMISE_ERROR":
        return "SET_INVALID";
      case "TLOG_INCLUSION_PROOF_ERROR":
        return message.includes("checkpoint signature") ? "CHECKPOINT_INVALID" : "INCLUSION_PROOF_MISMATCH";
      case "TLOG_BODY_ERROR":
        return "TLOG_ENTRY_MISMATCH";
      case "TLOG_ERROR":
      case "TLOG_MISSING_INCLUSION_ERROR":
        return "TLOG_ENTRY_MISSING";
      case "TIMESTAMP_ERROR":
        return "TIMESTAMP_INVALID";
      case "CERTIFICATE_ERROR":
        return message.includes("not valid or expired")
          ? "CERTIFICATE_OUTSIDE_VALIDITY"
          : "CERTIFICATE_UNTRUSTED";
      case "UNTRUSTED_SIGNER_ERROR":
        return "IDENTITY_NOT_ALLOWED";
      case "PUBLIC_KEY_ERROR":
        return "KEY_INVALID";
      default:
        return "BUNDLE_INVALID";
    }
  })();
  return new SignatureRefused(reason, message);
}

export async function verifyArtifact(request: VerifyRequest): Promise<VerifiedSignature> {
  const { rekorPolicy, profile } = request;
  if (!REKOR_POLICIES.includes(rekorPolicy))
    throw new SignatureRefused(
      "POLICY_INVALID",
      `unknown Rekor policy "${rekorPolicy}" (${REKOR_POLICIES.join(", ")})`,
    );
  if (rekorPolicy === "NONE" && profile === "production")
    throw new SignatureRefused(
      "REKOR_POLICY_REFUSED",
      "policy NONE accepts signatures no transparency log has seen; use REQUIRE_SET or REQUIRE_INCLUSION_PROOF",
    );

  const keyed = "keys" in request.signer;
  const signerKeys: KeyObject[] =
    "keys" in request.signer ? parsePublicKeys(request.signer.keys, "the signer key") : [];
  const keyless = "identity" in request.signer ? request.signer : undefined;
  if (keyless && !/^https?:\/\/\S+$/.test(keyless.issuer))
    throw new SignatureRefused(
      "POLICY_INVALID",
      `--issuer must be the OIDC issuer URL, got "${keyless.issuer}"`,
    );
  const policy: VerificationPolicy | undefined = keyless
    ? { subjectAlternativeName: identityPattern(keyless.identity), extensions: { issuer: keyless.issuer } }
    : undefined;

  const raw = rawSignature(request.bundle);
  if (!keyed && !raw.certificate)
    throw new SignatureRefused(
      "POLICY_INVALID",
      "keyless verification needs a bundle with a signing certificate",
    );
  const hashAlgorithm = raw.bundle
    ? (HASH_NAMES[
        (raw.bundle.content as { messageSignature: { messageDigest?: { algorithm: HashAlgorithm } } })
          .messageSignature.messageDigest?.algorithm ?? HashAlgorithm.SHA2_256
      ] ?? "sha256")
    : "sha256";
  const candidates = keyed ? signerKeys : [raw.certificate?.publicKey as KeyObject];
  const check = await checkArtifact(request.artifact, hashAlgorithm, raw.signature, candidates);

  const bundle =
    raw.bundle ??
    parseBundle(legacyToBundleV01(request.bundle as Parameters<typeof legacyToBundleV01>[0], check.digest));
  if (bundle.content.$case !== "messageSignature")
    throw new SignatureRefused("BUNDLE_INVALID", "not a message signature");
  const signed = Buffer.from(bundle.content.messageSignature.messageDigest?.digest ?? []);
  if (!signed.equals(check.digest))
    throw new SignatureRefused(
      "ARTIFACT_DIGEST_MISMATCH",
      `artifact ${hashAlgorithm} is ${check.digest.toString("hex")}, the bundle signed ${signed.toString("hex")}`,
    );

  const entries = bundle.verificationMaterial.tlogEntries;
  if (rekorPolicy === "REQUIRE_SET" && !entries.some((e) => e.inclusionPromise))
    throw new SignatureRefused(
      "TLOG_ENTRY_MISSING",
      "REQUIRE_SET needs a log entry with a SignedEntryTimestamp",
    );
  if (rekorPolicy === "REQUIRE_INCLUSION_PROOF" && !entries.some((e) => e.inclusionProof?.checkpoint))
    throw new SignatureRefused(
      "TLOG_ENTRY_MISSING",
      "REQUIRE_INCLUSION_PROOF needs a log entry with an inclusion proof",
    );

  const root = trustedRoot(request.trust ?? {});
  const known = root.tlogs.map((t) => Buffer.from(t.checkpointKeyId?.keyId ?? t.logId?.keyId ?? []));
  for (const entry of entries) {
    const logId = Buffer.from(entry.logId.keyId);
    if (!known.some((k) => k.equals(logId)))
      throw new SignatureRefused("LOG_KEY_UNKNOWN", `log ${logId.toString("hex")} (entry ${entry.logIndex})`);
  }

  // The signature is checked before the log evidence so a wrong key or an altered signature is
  // reported as such, not as a log entry that records a different signature.
  const signerIndex = check.signatureValid.indexOf(true);
  if (signerIndex < 0)
    throw new SignatureRefused(
      "SIGNATURE_INVALID",
      keyed
        ? `none of the ${signerKeys.length} trusted key(s) verifies it`
        : "the certificate's key does not verify it",
    );
  const signerKey = candidates[signerIndex] as KeyObject;

  const base = toSignedEntity(bundle);
  if (!keyed && base.timestamps.length === 0)
    throw new SignatureRefused(
      "TLOG_ENTRY_MISSING",
      "a keyless signature needs a time its certificate was valid at: a log entry or an RFC 3161 timestamp",
    );
  if (raw.certificate && !keyed) certificateValidAtLogTimes(raw.certificate, entries);
  // The artifact was hashed and its signature checked in one streamed pass above; the Verifier sees that
  // result instead of needing the bytes in memory.
  const content = base.signature;
  const entity: SignedEntity = {
    ...base,
    signature: {
      signature: content.signature,
      compareSignature: (s) => content.compareSignature(s),
      compareDigest: (d) => content.compareDigest(d),
      compareSignedDigest: (d) => content.compareSignedDigest(d),
      verifySignature: (key) => sameKey(signerKey, key),
    },
  };
  const verifier = new Verifier(trustMaterial(root, keyed ? signerKey : undefined), {
    tlogThreshold: rekorPolicy === "NONE" ? 0 : 1,
    ctlogThreshold: keyed ? 0 : 1,
    timestampThreshold: keyed ? 0 : 1,
  });
  let signer: ReturnType<Verifier["verify"]>;
  try {
    signer = verifier.verify(entity, policy);
  } catch (err) {
    throw refusalFrom(err);
  }
  return {
    digest: check.digest.toString("hex"),
    signer: keyed
      ? { kind: "key", keyIndex: signerIndex }
      : {
          kind: "certificate",
          identity: signer.identity?.subjectAlternativeName ?? "",
          issuer: signer.identity?.extensions?.issuer ?? "",
        },
    logEntries: entries.map((e) => ({
      logIndex: e.logIndex,
      integratedTime: Number(e.integratedTime),
      evidence: [
        ...(e.inclusionPromise ? (["SET"] as const) : []),
        ...(e.inclusionProof ? (["INCLUSION_PROOF"] as const) : []),
      ],
    })),
    rekorPolicy,
  };
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return spkiDer(a).equals(spkiDer(b));
}

/** Fulcio certificates live minutes; the log's integrated time must fall inside that window. */
function certificateValidAtLogTimes(
  cert: X509Certificate,
  entries: Bundle["verificationMaterial"]["tlogEntries"],
) {
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  for (const entry of entries) {
    const at = Number(entry.integratedTime) * 1000;
    if (at !== 0 && (at < from || at > to))
      throw new SignatureRefused(
        "CERTIFICATE_OUTSIDE_VALIDITY",
        `log entry ${entry.logIndex} integrated at ${new Date(at).toISOString()}, certificate valid ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`,
      );
  }
}
