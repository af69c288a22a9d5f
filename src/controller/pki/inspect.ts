import type { X509Certificate } from "@peculiar/x509";
import { x509 } from "../../x509/x509.ts";
import type { ClusterCa } from "./ca.ts";
import { remainingDays } from "./policy.ts";

/**
 * Checks the boot code needs before reusing certificate material it finds in the store: the server
 * certificate is re-issued when it no longer chains to the current CA or is close to expiry.
 */
export async function isIssuedBy(certificatePem: string, ca: ClusterCa, now: Date): Promise<boolean> {
  let certificate: X509Certificate;
  try {
    certificate = new x509.X509Certificate(certificatePem);
  } catch {
    // an unreadable certificate is not issued by the CA: the caller re-issues it
    return false;
  }
  if (certificate.issuer !== ca.certificate.subject) return false;
  return certificate.verify({ publicKey: ca.certificate.publicKey, date: now });
}

export interface CertificateSummary {
  readonly commonName: string | undefined;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly remainingDays: number;
}

export function describeCertificate(certificatePem: string, now: Date): CertificateSummary {
  const certificate = new x509.X509Certificate(certificatePem);
  return {
    commonName: certificate.subjectName.getField("CN")[0],
    serialNumber: certificate.serialNumber,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    remainingDays: remainingDays(certificate.notAfter, now),
  };
}

/** True when the certificate expires within `thresholdDays` (or already has). */
export function needsRenewal(certificatePem: string, now: Date, thresholdDays: number): boolean {
  return describeCertificate(certificatePem, now).remainingDays < thresholdDays;
}
