/**
 * Join token format, shared by the controller (mints, hashes) and the daemon (reads the CA pin).
 *
 *   pxr_<base64url( 24 random bytes ‖ first 12 bytes of SHA-256(cluster CA DER) )>
 *
 * The trailing CA pin solves the enrolling daemon's first-contact problem: it has no trust anchor
 * yet, so it fetches the CA over an unverified channel, checks it against the pin, and only then
 * sends the token over TLS verified with that CA. Someone in the middle can neither read the token
 * nor hand the daemon a CA of their own. One string to paste, like kubeadm's token plus CA hash.
 *
 * The controller stores only SHA-256 of the whole token.
 */
export const JOIN_TOKEN_PREFIX = "pxr_";
const SECRET_BYTES = 24;
const PIN_BYTES = 12;

export interface ParsedJoinToken {
  /** lowercase hex prefix of the CA certificate's SHA-256 fingerprint */
  readonly caPin: string;
}

export function mintJoinToken(caFingerprintHex: string): string {
  const pin = Buffer.from(caFingerprintHex, "hex").subarray(0, PIN_BYTES);
  if (pin.length !== PIN_BYTES) throw new Error("CA fingerprint must be a SHA-256 hex digest");
  const secret = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  return `${JOIN_TOKEN_PREFIX}${Buffer.concat([secret, pin]).toString("base64url")}`;
}

/** null when the text is not a join token of this format (typo, truncated paste, other product). */
export function parseJoinToken(token: string): ParsedJoinToken | null {
  if (!token.startsWith(JOIN_TOKEN_PREFIX)) return null;
  const body = token.slice(JOIN_TOKEN_PREFIX.length);
  // 36 bytes are exactly 48 base64url characters; anything longer or shorter is a bad paste.
  if (!/^[A-Za-z0-9_-]{48}$/.test(body)) return null;
  const bytes = Buffer.from(body, "base64url");
  if (bytes.length !== SECRET_BYTES + PIN_BYTES) return null;
  return { caPin: bytes.subarray(SECRET_BYTES).toString("hex") };
}

export function caMatchesPin(caFingerprintHex: string, caPin: string): boolean {
  return caPin.length === PIN_BYTES * 2 && caFingerprintHex.toLowerCase().startsWith(caPin.toLowerCase());
}

/** What the controller stores and looks tokens up by. */
export function joinTokenHash(token: string): string {
  return new Bun.CryptoHasher("sha256").update(token).digest("hex");
}
