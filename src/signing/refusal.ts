/**
 * Why a signature was refused. Every refusal carries one of these codes and a sentence naming the
 * evidence that failed, so an operator can tell a wrong key from a tampered file from a log problem.
 */
export const REFUSAL_REASONS = {
  BUNDLE_INVALID: "the bundle is not a Sigstore bundle (v0.1-v0.3) or a cosign --bundle file",
  KEY_INVALID: "the public key cannot be read",
  POLICY_INVALID: "the verification policy cannot be used",
  REKOR_POLICY_REFUSED: "the Rekor policy is not allowed in this profile",
  ARTIFACT_DIGEST_MISMATCH: "the artifact's digest differs from the one that was signed",
  SIGNATURE_INVALID: "the signature does not verify with the signer's key (wrong key or altered signature)",
  TLOG_ENTRY_MISSING: "the Rekor policy needs log evidence the bundle does not carry",
  LOG_KEY_UNKNOWN: "the log entry comes from a transparency log whose key is not trusted",
  SET_INVALID: "the SignedEntryTimestamp does not verify against the trusted log key",
  CHECKPOINT_INVALID: "the checkpoint is not signed by the trusted log key",
  INCLUSION_PROOF_MISMATCH: "the Merkle inclusion proof does not lead to the checkpoint's root hash",
  TLOG_ENTRY_MISMATCH: "the log entry records a different signature or digest than the bundle",
  TIMESTAMP_INVALID: "a timestamp in the bundle cannot be verified",
  CERTIFICATE_UNTRUSTED: "the signing certificate does not chain to a trusted Fulcio root",
  CERTIFICATE_OUTSIDE_VALIDITY: "the signing certificate was not valid at the log's integrated time",
  IDENTITY_NOT_ALLOWED: "the certificate identity or OIDC issuer is not the allowed one",
} as const;

export type RefusalReason = keyof typeof REFUSAL_REASONS;

export class SignatureRefused extends Error {
  constructor(
    readonly reason: RefusalReason,
    detail: string,
  ) {
    super(`${REFUSAL_REASONS[reason]}: ${detail}`);
    this.name = "SignatureRefused";
  }
}
