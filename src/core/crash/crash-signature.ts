import { createHash } from "node:crypto";
import { normalizeForSignature } from "./log-line.ts";

/** Signature of a crash with no log evidence at all. */
export const EMPTY_TAIL_SIGNATURE = "00000000";

export interface SignatureParts {
  /** The crash class that decided the classification. */
  readonly kind: string;
  /** The decisive line (or the fallback reason). */
  readonly summary: string;
  /** The first stack frame under it, or "" when the location is incidental. */
  readonly frame: string;
  readonly instanceId?: string | undefined;
}

/**
 * First 16 hex chars of SHA-256 over `kind|summary|frame`, each normalized (see
 * `normalizeForSignature`) so that the same crash on two instances, nodes or days signs the same.
 */
export function crashSignature(parts: SignatureParts): string {
  const text = [
    parts.kind,
    normalizeForSignature(parts.summary, parts.instanceId),
    normalizeForSignature(parts.frame, parts.instanceId),
  ].join("|");
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, 16);
}
