/** Certificate lifetimes and naming the cluster PKI issues with (spec: CA 3650 d, server 825 d, node 365 d). */
export const CA_VALIDITY_DAYS = 3650;
export const SERVER_CERT_VALIDITY_DAYS = 825;
export const NODE_CERT_VALIDITY_DAYS = 365;

export const DEFAULT_CA_COMMON_NAME = "PrexorCloud Cluster CA";
export { CONTROLLER_TLS_SERVER_NAME as SERVER_CERT_COMMON_NAME } from "../../wire/contract.ts";

/**
 * notBefore is set this far in the past so that a peer whose clock runs a little behind still
 * accepts a certificate issued seconds ago.
 */
export const NOT_BEFORE_BACKDATE_MS = 5 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;

export function validityWindow(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: new Date(now.getTime() - NOT_BEFORE_BACKDATE_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
  };
}

/** Whole days left before `notAfter`, negative once expired. */
export function remainingDays(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}
