import { X509Certificate } from "node:crypto";
import { SignatureRefused } from "./refusal.ts";

/**
 * cosign's legacy `--bundle` file (the cosign ≤ 2.x default): `{base64Signature, cert?, rekorBundle?:
 * {SignedEntryTimestamp, Payload: {body, integratedTime, logIndex, logID}}}`. @sigstore/bundle cannot
 * read it, so it is mapped to a protobuf bundle v0.1 — the only media type that accepts a SET without an
 * inclusion proof, which is all the legacy file carries.
 */
export interface LegacyCosignBundle {
  base64Signature: string;
  cert?: string;
  rekorBundle?: {
    SignedEntryTimestamp?: string;
    Payload?: { body?: string; integratedTime?: number; logIndex?: number; logID?: string };
  };
}

export function isLegacyCosignBundle(json: unknown): json is LegacyCosignBundle {
  return (
    typeof json === "object" &&
    json !== null &&
    typeof (json as Record<string, unknown>).base64Signature === "string" &&
    !("mediaType" in json)
  );
}

function certificateDer(cert: string): string {
  const pem = Buffer.from(cert, "base64").toString("utf8");
  try {
    return new X509Certificate(
      pem.includes("BEGIN CERTIFICATE") ? pem : Buffer.from(cert, "base64"),
    ).raw.toString("base64");
  } catch (err) {
    throw new SignatureRefused(
      "BUNDLE_INVALID",
      `the cosign bundle's cert cannot be read: ${(err as Error).message}`,
    );
  }
}

interface HashedRekordBody {
  kind?: string;
  apiVersion?: string;
  spec?: { data?: { hash?: { algorithm?: string; value?: string } } };
}

/**
 * @param artifactSha256 the artifact's digest; it becomes the signed digest only when the file has no
 *   log entry (`--tlog-upload=false`), otherwise the digest recorded in the log entry is used, so a
 *   changed artifact still shows up as a digest mismatch.
 */
export function legacyToBundleV01(legacy: LegacyCosignBundle, artifactSha256: Buffer): unknown {
  const verificationMaterial: Record<string, unknown> = legacy.cert
    ? { x509CertificateChain: { certificates: [{ rawBytes: certificateDer(legacy.cert) }] } }
    : { publicKey: { hint: "" } };
  let digest = artifactSha256;
  const tlogEntries: unknown[] = [];
  const rekor = legacy.rekorBundle;
  if (rekor !== undefined) {
    const payload = rekor.Payload;
    if (!rekor.SignedEntryTimestamp || !payload)
      throw new SignatureRefused("BUNDLE_INVALID", "rekorBundle needs SignedEntryTimestamp and Payload");
    const { body, integratedTime, logIndex, logID } = payload;
    if (
      typeof body !== "string" ||
      typeof integratedTime !== "number" ||
      typeof logIndex !== "number" ||
      !logID
    )
      throw new SignatureRefused(
        "BUNDLE_INVALID",
        "rekorBundle.Payload needs body, integratedTime, logIndex, logID",
      );
    let entry: HashedRekordBody;
    try {
      entry = JSON.parse(Buffer.from(body, "base64").toString("utf8")) as HashedRekordBody;
    } catch {
      throw new SignatureRefused("BUNDLE_INVALID", "rekorBundle.Payload.body is not base64 JSON");
    }
    const hash = entry.spec?.data?.hash;
    if (
      entry.kind !== "hashedrekord" ||
      hash?.algorithm !== "sha256" ||
      !/^[0-9a-f]{64}$/.test(hash.value ?? "")
    )
      throw new SignatureRefused(
        "BUNDLE_INVALID",
        `unsupported Rekor entry kind ${entry.kind} (hashedrekord/sha256 only)`,
      );
    digest = Buffer.from(hash.value as string, "hex");
    tlogEntries.push({
      logIndex: String(logIndex),
      logId: { keyId: Buffer.from(logID, "hex").toString("base64") },
      kindVersion: { kind: entry.kind, version: entry.apiVersion },
      integratedTime: String(integratedTime),
      inclusionPromise: { signedEntryTimestamp: rekor.SignedEntryTimestamp },
      canonicalizedBody: body,
    });
  }
  verificationMaterial.tlogEntries = tlogEntries;
  verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [] };
  return {
    mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
    verificationMaterial,
    messageSignature: {
      messageDigest: { algorithm: "SHA2_256", digest: digest.toString("base64") },
      signature: legacy.base64Signature,
    },
  };
}
