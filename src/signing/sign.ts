import { createHash, createPrivateKey, createPublicKey, createSign, type KeyObject } from "node:crypto";
import { createReadStream } from "node:fs";

/**
 * Keyed signing (`cosign sign-blob --key` without a transparency log): one streamed pass gives the
 * artifact's SHA-256 and an ECDSA/RSA signature over it, packaged as a Sigstore bundle v0.3 whose
 * public-key hint is the SHA-256 of the key's DER (cosign's hint format).
 */
export interface KeyedSignature {
  bundle: Record<string, unknown>;
  /** Base64 signature over the artifact bytes, the `.sig` cosign and openssl read. */
  signature: string;
  sha256: string;
}

export function readPrivateKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== "ec" && key.asymmetricKeyType !== "rsa")
    throw new Error(`signing key must be ECDSA or RSA, got ${key.asymmetricKeyType}`);
  return key;
}

export async function signFileKeyed(path: string, privateKey: KeyObject): Promise<KeyedSignature> {
  const hash = createHash("sha256");
  const signer = createSign("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    signer.update(chunk as Buffer);
  }
  const digest = hash.digest();
  const signature = signer.sign(privateKey).toString("base64");
  const der = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  return {
    signature,
    sha256: digest.toString("hex"),
    bundle: {
      mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      verificationMaterial: {
        publicKey: { hint: createHash("sha256").update(der).digest("base64") },
        tlogEntries: [],
        timestampVerificationData: { rfc3161Timestamps: [] },
      },
      messageSignature: {
        messageDigest: { algorithm: "SHA2_256", digest: digest.toString("base64") },
        signature,
      },
    },
  };
}
