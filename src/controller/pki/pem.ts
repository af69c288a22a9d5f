import type { X509Certificate } from "@peculiar/x509";
import { x509 } from "../../x509/x509.ts";

export function privateKeyToPem(pkcs8: Uint8Array): string {
  return x509.PemConverter.encode(toArrayBuffer(pkcs8), "PRIVATE KEY");
}

/** The DER bytes of the first block of `pem` with the given label (for example "CERTIFICATE"). */
export function pemToDer(pem: string, label: string): Uint8Array {
  const blocks = x509.PemConverter.decodeWithHeaders(pem).filter((block) => block.type === label);
  const first = blocks[0];
  if (!first) throw new Error(`no ${label} block in PEM input`);
  return new Uint8Array(first.rawData);
}

/** A fresh ArrayBuffer holding exactly these bytes (a Uint8Array may be a view into a larger one). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

/** Lowercase hex SHA-256 of a certificate's DER encoding. */
export function sha256FingerprintHex(certificate: X509Certificate): string {
  return new Bun.CryptoHasher("sha256").update(new Uint8Array(certificate.rawData)).digest("hex");
}
