import { isIP } from "node:net";
import { AppError } from "../../core/errors.ts";
import { EC_P256, generateEcKeyPair, x509 } from "../../x509/x509.ts";
import type { ClusterCa } from "./ca.ts";
import { privateKeyToPem } from "./pem.ts";
import { SERVER_CERT_COMMON_NAME, SERVER_CERT_VALIDITY_DAYS, validityWindow } from "./policy.ts";
import { randomSerialHex } from "./serial.ts";

/**
 * Always present: the shared controller name daemons verify (see CONTROLLER_TLS_SERVER_NAME), and
 * loopback so local tools and a co-located daemon can dial by localhost.
 */
const ALWAYS_DNS_NAMES = [SERVER_CERT_COMMON_NAME, "localhost"];
const ALWAYS_IPS = ["127.0.0.1", "::1"];

const DNS_NAME =
  /^(?:\*\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export interface ServerCertificateOptions {
  readonly now: Date;
  /** Advertised DNS names of this controller. */
  readonly hostnames?: readonly string[];
  /** Advertised IP addresses (v4 or v6) of this controller. */
  readonly ipAddresses?: readonly string[];
  readonly validityDays?: number;
}

export interface IssuedServerCertificate {
  readonly certificatePem: string;
  /** PKCS#8 PEM; grpc-js wants it as `private_key`. */
  readonly privateKeyPem: string;
  readonly serialNumber: string;
  readonly notAfter: Date;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/** Issues the controller's TLS server certificate with a fresh key pair. */
export async function issueServerCertificate(
  ca: ClusterCa,
  options: ServerCertificateOptions,
): Promise<IssuedServerCertificate> {
  const dnsNames = unique([...ALWAYS_DNS_NAMES, ...(options.hostnames ?? [])].map((n) => n.toLowerCase()));
  const ipAddresses = unique([...ALWAYS_IPS, ...(options.ipAddresses ?? [])]);
  for (const name of dnsNames) {
    if (!DNS_NAME.test(name)) {
      throw new AppError("CONFIG_INVALID", `Invalid host name for the server certificate: '${name}'`, {
        reason: "SERVER_SAN_INVALID",
      });
    }
  }
  for (const ip of ipAddresses) {
    if (isIP(ip) === 0) {
      throw new AppError("CONFIG_INVALID", `Invalid IP address for the server certificate: '${ip}'`, {
        reason: "SERVER_SAN_INVALID",
      });
    }
  }

  const keys = await generateEcKeyPair(true);
  const serialNumber = randomSerialHex();
  const { notBefore, notAfter } = validityWindow(
    options.now,
    options.validityDays ?? SERVER_CERT_VALIDITY_DAYS,
  );
  const certificate = await x509.X509CertificateGenerator.create({
    subject: [{ CN: [SERVER_CERT_COMMON_NAME] }],
    issuer: ca.certificate.subjectName,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    serialNumber,
    notBefore,
    notAfter,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      // ECDHE suites only need signatures from the server key.
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: "dns" as const, value })),
        ...ipAddresses.map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
    ],
  });

  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return {
    certificatePem: certificate.toString("pem"),
    privateKeyPem: privateKeyToPem(pkcs8),
    serialNumber: certificate.serialNumber,
    notAfter: certificate.notAfter,
    dnsNames,
    ipAddresses,
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
