import { createHash, createVerify, type KeyObject, verify as verifyOneShot } from "node:crypto";
import { createReadStream } from "node:fs";

/** A file is hashed as a stream, so a large artifact never has to fit in memory. */
export type ArtifactSource = { path: string } | { bytes: Uint8Array };

export interface ArtifactCheck {
  digest: Buffer;
  /** Signature result per candidate key, in the order given. */
  signatureValid: boolean[];
}

const CHUNK = 4 * 1024 * 1024;

async function* chunks(source: ArtifactSource): AsyncGenerator<Uint8Array> {
  if ("bytes" in source) {
    yield source.bytes;
    return;
  }
  for await (const chunk of createReadStream(source.path, { highWaterMark: CHUNK })) yield chunk as Buffer;
}

/**
 * One pass over the artifact computes its digest and checks the signature with every candidate key
 * (ECDSA/RSA verify incrementally; Ed25519 signs the whole message, so its bytes are kept).
 */
export async function checkArtifact(
  source: ArtifactSource,
  hashAlgorithm: string,
  signature: Buffer,
  keys: KeyObject[],
): Promise<ArtifactCheck> {
  const hash = createHash(hashAlgorithm);
  const streaming = keys.map((key) =>
    key.asymmetricKeyType === "ed25519" ? undefined : createVerify(hashAlgorithm),
  );
  const whole: Uint8Array[] | undefined = streaming.some((v) => v === undefined) ? [] : undefined;
  for await (const chunk of chunks(source)) {
    hash.update(chunk);
    for (const v of streaming) v?.update(chunk);
    whole?.push(chunk);
  }
  const signatureValid = keys.map((key, i) => {
    try {
      const v = streaming[i];
      return v ? v.verify(key, signature) : verifyOneShot(null, Buffer.concat(whole ?? []), key, signature);
    } catch {
      // a key that cannot verify (wrong type or malformed) does not verify: fail closed
      return false;
    }
  });
  return { digest: hash.digest(), signatureValid };
}
