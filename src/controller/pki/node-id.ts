import { AppError } from "../../core/errors.ts";

/**
 * A node id becomes the certificate CN and a DNS subjectAltName, so it must be a valid DNS name:
 * labels of letters, digits and inner hyphens, joined by dots, at most 253 characters.
 */
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function isValidNodeId(nodeId: string): boolean {
  if (nodeId.length === 0 || nodeId.length > 253) return false;
  return nodeId.split(".").every((label) => LABEL.test(label));
}

export function assertValidNodeId(nodeId: string): void {
  if (!isValidNodeId(nodeId)) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `Invalid node id '${nodeId}': use letters, digits, '-' and '.', like a host name`,
      { reason: "NODE_ID_INVALID", nodeId },
    );
  }
}
