/**
 * The one place @peculiar/x509 is loaded, for the controller and the daemon alike (a library
 * loader, not domain logic, so it lives outside core/).
 *
 * Loading it has two process-wide effects, both done here and nowhere else, in this order:
 *   1. the Reflect metadata shim is installed on the global `Reflect`: the library pulls in tsyringe,
 *      which throws at load time unless `Reflect.getMetadata` exists;
 *   2. the library's crypto provider is set to the runtime's WebCrypto, rather than relying on its own
 *      lookup of a global.
 * Bun evaluates CommonJS packages reached by static `import` before the importing module's sibling
 * ESM imports, so the library is `require`d after step 1 instead of imported.
 */
import { installReflectMetadataShim } from "./reflect-metadata.ts";

type X509Module = typeof import("@peculiar/x509");

installReflectMetadataShim();
const x509 = require("@peculiar/x509") as X509Module;
x509.cryptoProvider.set(globalThis.crypto);

export { x509 };

/** EC P-256 with SHA-256: the only key type the cluster issues or accepts. */
export const EC_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export function generateEcKeyPair(extractable = true): Promise<CryptoKeyPair> {
  return globalThis.crypto.subtle.generateKey(EC_P256, extractable, ["sign", "verify"]);
}
