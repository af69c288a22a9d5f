/**
 * The daemon's loader for @peculiar/x509 (same constraints as the controller's: the metadata shim
 * has to run before the library is required). Kept separate because roles do not import each
 * other's internals.
 */
import "./reflect-metadata.ts";

type X509Module = typeof import("@peculiar/x509");
const x509 = require("@peculiar/x509") as X509Module;

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };

export const EC_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
