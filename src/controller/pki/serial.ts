/**
 * A random 128-bit certificate serial as 32 lowercase hex characters.
 *
 * The top bit is forced on so the value never has leading zero bytes: the DER encoding then always
 * carries one 0x00 sign byte and every reader (grpc-js, openssl, @peculiar/x509) reports the same 32
 * hex digits, which matters because revocation is keyed by this string. 127 random bits remain, far
 * above the 64 bits public CAs are required to use.
 */
export function randomSerialHex(random: (bytes: Uint8Array) => Uint8Array = defaultRandom): string {
  const bytes = random(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) | 0x80;
  return Buffer.from(bytes).toString("hex");
}

/** Canonical form of a serial read from elsewhere (any case, optional colons or leading zeros). */
export function normalizeSerialHex(serial: string): string {
  const hex = serial
    .replaceAll(":", "")
    .toLowerCase()
    .replace(/^(00)+/, "");
  return hex === "" ? "00" : hex;
}

function defaultRandom(bytes: Uint8Array): Uint8Array {
  return globalThis.crypto.getRandomValues(bytes);
}
