import type { Pkcs10CertificateRequest } from "@peculiar/x509";
import { AppError } from "../../core/errors.ts";
import { EC_P256, x509 } from "../../x509/x509.ts";
import type { ClusterCa } from "./ca.ts";
import { assertValidNodeId } from "./node-id.ts";
import { toArrayBuffer } from "./pem.ts";
import { NODE_CERT_VALIDITY_DAYS, validityWindow } from "./policy.ts";
import { randomSerialHex } from "./serial.ts";

export interface SignNodeCsrOptions {
  /** The node id the controller assigned; the CSR subject CN must equal it exactly. */
  readonly nodeId: string;
  /** PKCS#10 request, DER bytes or PEM text. */
  readonly csr: Uint8Array | string;
  readonly now: Date;
  readonly validityDays?: number;
}

export interface IssuedNodeCertificate {
  readonly nodeId: string;
  readonly certificatePem: string;
  readonly serialNumber: string;
  readonly notAfter: Date;
}

/**
 * Signs a daemon's CSR into a client certificate (CN = DNS SAN = node id, clientAuth only).
 *
 * Only the subject and public key are taken from the request; any extensions it asks for are ignored,
 * so a daemon cannot obtain serverAuth, CA rights or extra names.
 */
export async function signNodeCsr(
  ca: ClusterCa,
  options: SignNodeCsrOptions,
): Promise<IssuedNodeCertificate> {
  assertValidNodeId(options.nodeId);
  const csr = parseCsr(options.csr);

  if (!(await csr.verify())) {
    throw csrError("CSR_SIGNATURE_INVALID", "CSR signature does not verify");
  }
  const algorithm = csr.publicKey.algorithm as { name: string; namedCurve?: string };
  if (algorithm.name !== "ECDSA" || algorithm.namedCurve !== "P-256") {
    throw csrError("CSR_KEY_UNSUPPORTED", "CSR key must be EC P-256");
  }
  const commonNames = csr.subjectName.getField("CN");
  if (commonNames.length !== 1 || commonNames[0] !== options.nodeId) {
    throw csrError(
      "CSR_NODE_ID_MISMATCH",
      `CSR subject CN '${commonNames.join(",")}' does not match the assigned node id '${options.nodeId}'`,
    );
  }

  const { notBefore, notAfter } = validityWindow(
    options.now,
    options.validityDays ?? NODE_CERT_VALIDITY_DAYS,
  );
  const certificate = await x509.X509CertificateGenerator.create({
    subject: [{ CN: [options.nodeId] }],
    issuer: ca.certificate.subjectName,
    publicKey: csr.publicKey,
    signingKey: ca.privateKey,
    serialNumber: randomSerialHex(),
    notBefore,
    notAfter,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      // keyEncipherment is left out on purpose: it describes RSA key transport and is not valid for
      // EC keys (RFC 5480 section 3).
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: options.nodeId }]),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
    ],
  });

  return {
    nodeId: options.nodeId,
    certificatePem: certificate.toString("pem"),
    serialNumber: certificate.serialNumber,
    notAfter: certificate.notAfter,
  };
}

function parseCsr(input: Uint8Array | string): Pkcs10CertificateRequest {
  try {
    return new x509.Pkcs10CertificateRequest(typeof input === "string" ? input : toArrayBuffer(input));
  } catch (cause) {
    throw csrError("CSR_MALFORMED", "CSR is not a valid PKCS#10 request", cause);
  }
}

function csrError(reason: string, message: string, cause?: unknown): AppError {
  return new AppError("INVALID_ARGUMENT", message, { reason }, cause === undefined ? undefined : { cause });
}
