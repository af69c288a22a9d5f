import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineCommand } from "citty";
import { SignatureRefused } from "../signing/refusal.ts";
import { REKOR_POLICIES, type RekorPolicy, type SignerPolicy, verifyArtifact } from "../signing/verify.ts";
import { UsageError } from "./strict-run.ts";

function readText(path: string, what: string): string {
  try {
    return readFileSync(resolve(path), "utf8");
  } catch (err) {
    throw new UsageError(`${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * `prexor verify FILE --bundle B (--key K | --identity RE --issuer URL)`: the offline verifier on the
 * command line. Exit 0 verified, 1 refused (the reason on stderr), 2 usage.
 */
export const verifyCommand = defineCommand({
  meta: { name: "verify", description: "Verify an artifact's Sigstore/cosign signature offline" },
  args: {
    file: { type: "positional", description: "the artifact", required: true },
    bundle: {
      type: "string",
      description: "Sigstore bundle (.sigstore.json) or cosign --bundle file",
      required: true,
    },
    key: { type: "string", description: "keyed: PEM public key(s) of the signer" },
    identity: { type: "string", description: "keyless: certificate identity regexp (anchored at the start)" },
    issuer: { type: "string", description: "keyless: OIDC issuer URL" },
    "rekor-policy": {
      type: "string",
      description: "REQUIRE_SET | REQUIRE_INCLUSION_PROOF | NONE",
      default: "REQUIRE_SET",
    },
    profile: {
      type: "string",
      description: "production | development (NONE only in development)",
      default: "production",
    },
    "trusted-root": {
      type: "string",
      description: "trusted_root.json replacing the embedded public-good root",
    },
    "rekor-key": { type: "string", description: "PEM Rekor public key(s) replacing the root's logs" },
    json: { type: "boolean", description: "print the result as JSON" },
  },
  async run({ args }) {
    const policy = String(args["rekor-policy"]) as RekorPolicy;
    if (!REKOR_POLICIES.includes(policy))
      throw new UsageError(`--rekor-policy must be one of ${REKOR_POLICIES.join(", ")}, got "${policy}"`);
    if (args.profile !== "production" && args.profile !== "development")
      throw new UsageError(`--profile must be production or development, got "${args.profile}"`);
    let signer: SignerPolicy;
    if (args.key !== undefined) {
      if (args.identity !== undefined || args.issuer !== undefined)
        throw new UsageError("--key excludes --identity/--issuer");
      signer = { keys: readText(args.key, "--key") };
    } else if (args.identity !== undefined && args.issuer !== undefined) {
      signer = { identity: args.identity, issuer: args.issuer };
    } else {
      throw new UsageError("give --key K, or --identity RE and --issuer URL");
    }
    let bundle: unknown;
    try {
      bundle = JSON.parse(readText(args.bundle, "--bundle"));
    } catch (err) {
      if (err instanceof UsageError) throw err;
      console.error(`refused: BUNDLE_INVALID: ${args.bundle} is not JSON`);
      return 1;
    }
    try {
      const result = await verifyArtifact({
        artifact: { path: resolve(String(args.file)) },
        bundle,
        signer,
        rekorPolicy: policy,
        profile: args.profile,
        trust: {
          trustedRootJson: args["trusted-root"]
            ? JSON.parse(readText(args["trusted-root"], "--trusted-root"))
            : undefined,
          rekorPublicKeysPem: args["rekor-key"] ? readText(args["rekor-key"], "--rekor-key") : undefined,
        },
      });
      if (args.json) console.log(JSON.stringify({ verified: true, ...result }));
      else {
        const who =
          result.signer.kind === "key"
            ? "the given key"
            : `${result.signer.identity} (${result.signer.issuer})`;
        const log = result.logEntries
          .map((e) => `log index ${e.logIndex} [${e.evidence.join("+")}]`)
          .join(", ");
        console.log(
          `verified: ${args.file} sha256:${result.digest} signed by ${who}${log ? `; ${log}` : ""}`,
        );
      }
      return 0;
    } catch (err) {
      if (!(err instanceof SignatureRefused)) throw err;
      if (args.json)
        console.log(JSON.stringify({ verified: false, reason: err.reason, message: err.message }));
      console.error(`refused: ${err.reason}: ${err.message}`);
      return 1;
    }
  },
});
