import { scrypt } from "node:crypto";
import { AppError } from "../../core/errors.ts";
import { toArrayBuffer } from "./pem.ts";

/**
 * Sealing of the CA private key at rest, under a key derived from the cluster secret.
 *
 * Blob format (one ASCII line, so it stores as a plain string in either store):
 *
 *   pxsealed:v1:scrypt:<logN>:<r>:<p>:<salt b64url>:<iv b64url>:<ciphertext+tag b64url>
 *
 * AES-256-GCM authenticates the ciphertext, and everything before it is bound in as associated data,
 * so changing the version, the KDF parameters, the salt or the purpose makes unsealing fail instead
 * of silently producing garbage. scrypt (not HKDF) because the cluster secret may be a passphrase an
 * operator typed: a memory-hard KDF keeps guessing it from a leaked blob expensive.
 */
const PREFIX = "pxsealed";
const VERSION = "v1";
const KDF = "scrypt";

/** scrypt cost N = 2^15, r = 8, p = 1: about 32 MiB and tens of milliseconds, paid once at boot. */
export const DEFAULT_SCRYPT_LOG_N = 15;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
/** Upper bound accepted when unsealing, so a tampered blob cannot demand gigabytes of memory. */
const MAX_SCRYPT_LOG_N = 20;
const MIN_SCRYPT_LOG_N = 10;

export interface SealOptions {
  /**
   * What the blob protects; bound into the authentication so a blob sealed for one purpose cannot be
   * substituted for another. Must match on unseal.
   */
  readonly purpose?: string;
  /** For tests only: a cheaper scrypt cost. */
  readonly scryptLogN?: number;
}

const DEFAULT_PURPOSE = "cluster-ca-key";

export async function sealPrivateKey(
  pkcs8: Uint8Array,
  clusterSecret: string,
  options: SealOptions = {},
): Promise<string> {
  assertSecret(clusterSecret);
  const logN = options.scryptLogN ?? DEFAULT_SCRYPT_LOG_N;
  if (!Number.isInteger(logN) || logN < MIN_SCRYPT_LOG_N || logN > MAX_SCRYPT_LOG_N) {
    throw new RangeError(`scryptLogN must be an integer in ${MIN_SCRYPT_LOG_N}..${MAX_SCRYPT_LOG_N}`);
  }
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const header = [PREFIX, VERSION, KDF, logN, SCRYPT_R, SCRYPT_P, b64url(salt), b64url(iv)].join(":");

  const key = await deriveKey(clusterSecret, salt, logN, SCRYPT_R, SCRYPT_P);
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: associatedData(header, options.purpose) },
    key,
    toArrayBuffer(pkcs8),
  );
  return `${header}:${b64url(new Uint8Array(sealed))}`;
}

export async function unsealPrivateKey(
  blob: string,
  clusterSecret: string,
  options: Pick<SealOptions, "purpose"> = {},
): Promise<Uint8Array> {
  assertSecret(clusterSecret);
  const parts = blob.trim().split(":");
  const [prefix, version, kdf, logNText, rText, pText, saltText, ivText, sealedText] = parts;
  if (parts.length !== 9 || prefix !== PREFIX || kdf !== KDF) {
    throw unsealError("Sealed key blob is not in a recognised format");
  }
  if (version !== VERSION) {
    throw unsealError(`Sealed key blob version '${version}' is not supported by this build`);
  }
  const logN = Number(logNText);
  const r = Number(rText);
  const p = Number(pText);
  if (
    !Number.isInteger(logN) ||
    logN < MIN_SCRYPT_LOG_N ||
    logN > MAX_SCRYPT_LOG_N ||
    r !== SCRYPT_R ||
    p !== SCRYPT_P
  ) {
    throw unsealError("Sealed key blob has unsupported KDF parameters");
  }

  const header = parts.slice(0, 8).join(":");
  const key = await deriveKey(clusterSecret, fromB64url(saltText ?? ""), logN, r, p);
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: toArrayBuffer(fromB64url(ivText ?? "")),
        additionalData: associatedData(header, options.purpose),
      },
      key,
      toArrayBuffer(fromB64url(sealedText ?? "")),
    );
    return new Uint8Array(plain);
  } catch (cause) {
    throw unsealError("Sealed key cannot be opened: wrong cluster secret or the blob was altered", cause);
  }
}

function associatedData(header: string, purpose: string | undefined): ArrayBuffer {
  return toArrayBuffer(new TextEncoder().encode(`${header}|${purpose ?? DEFAULT_PURPOSE}`));
}

async function deriveKey(
  secret: string,
  salt: Uint8Array,
  logN: number,
  r: number,
  p: number,
): Promise<CryptoKey> {
  const N = 2 ** logN;
  const raw = await new Promise<Buffer>((resolve, reject) => {
    // maxmem must exceed 128 * N * r or node:crypto refuses the parameters.
    scrypt(secret.normalize("NFC"), salt, 32, { N, r, p, maxmem: 256 * N * r }, (error, derived) =>
      error ? reject(error) : resolve(derived),
    );
  });
  return crypto.subtle.importKey("raw", toArrayBuffer(raw), "AES-GCM", false, ["encrypt", "decrypt"]);
}

function assertSecret(secret: string): void {
  if (secret.length === 0) throw new AppError("CONFIG_INVALID", "Cluster secret must not be empty");
}

function unsealError(message: string, cause?: unknown): AppError {
  return new AppError("CONFIG_INVALID", message, { reason: "SEALED_KEY_UNREADABLE" }, { cause });
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

function fromB64url(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64url"));
}
