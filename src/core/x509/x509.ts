/**
 * The one place @peculiar/x509 is loaded, for the controller and the daemon alike (a library
 * loader, not domain logic; shared here so both roles use the same shim).
 *
 * The library pulls in tsyringe, which throws at load time unless `Reflect.getMetadata` exists. Bun
 * evaluates CommonJS packages reached by static `import` before the importing module's sibling ESM
 * imports, so a shim imported first is not enough: the library is `require`d after the shim has run.
 */
import "./reflect-metadata.ts";

type X509Module = typeof import("@peculiar/x509");
const x509 = require("@peculiar/x509") as X509Module;

// Explicit rather than relying on the library's own lookup of a global crypto.
x509.cryptoProvider.set(globalThis.crypto);

export { x509 };

/** EC P-256 with SHA-256: the only key type the cluster issues or accepts. */
export const EC_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export function generateEcKeyPair(extractable = true): Promise<CryptoKeyPair> {
  return globalThis.crypto.subtle.generateKey(EC_P256, extractable, ["sign", "verify"]);
}
