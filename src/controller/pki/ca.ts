import type { JsonName, X509Certificate } from "@peculiar/x509";
import { AppError } from "../../core/errors.ts";
import { EC_P256, generateEcKeyPair, x509 } from "../../x509/x509.ts";
import { sha256FingerprintHex, toArrayBuffer } from "./pem.ts";
import { CA_VALIDITY_DAYS, DEFAULT_CA_COMMON_NAME, validityWindow } from "./policy.ts";
import { randomSerialHex } from "./serial.ts";

/** The cluster CA, loaded and ready to sign. Its private key is not extractable from here on. */
export interface ClusterCa {
  readonly certificate: X509Certificate;
  readonly certificatePem: string;
  /** Lowercase hex SHA-256 of the CA certificate DER; what an enrolling daemon pins. */
  readonly fingerprint: string;
  readonly privateKey: CryptoKey;
}

export interface CreatedClusterCa {
  readonly ca: ClusterCa;
  /** The CA private key, PKCS#8 DER, for sealing (see key-seal.ts) and storing. Handed out once. */
  readonly privateKeyPkcs8: Uint8Array;
}

export interface CreateClusterCaOptions {
  readonly now: Date;
  readonly commonName?: string;
  /** Recorded as the subject's OU so certificates from different clusters are told apart. */
  readonly clusterId?: string;
  readonly validityDays?: number;
}

export async function createClusterCa(options: CreateClusterCaOptions): Promise<CreatedClusterCa> {
  const keys = await generateEcKeyPair(true);
  const { notBefore, notAfter } = validityWindow(options.now, options.validityDays ?? CA_VALIDITY_DAYS);
  const name: JsonName = [{ CN: [options.commonName ?? DEFAULT_CA_COMMON_NAME] }, { O: ["PrexorCloud"] }];
  if (options.clusterId) name.push({ OU: [options.clusterId] });

  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    keys,
    serialNumber: randomSerialHex(),
    notBefore,
    notAfter,
    signingAlgorithm: EC_P256,
    extensions: [
      // pathLength 0: the CA signs leaves only, never a subordinate CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });

  const privateKeyPkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const ca = await loadClusterCa(certificate.toString("pem"), privateKeyPkcs8);
  return { ca, privateKeyPkcs8 };
}

/**
 * Rebuilds the CA from its stored certificate and (unsealed) PKCS#8 key, refusing a key that does not
 * belong to the certificate: signing with a mismatched key would mint certificates nobody accepts.
 */
export async function loadClusterCa(certificatePem: string, privateKeyPkcs8: Uint8Array): Promise<ClusterCa> {
  const certificate = new x509.X509Certificate(certificatePem);
  const basic = certificate.getExtension(x509.BasicConstraintsExtension);
  if (!basic?.ca) {
    throw new AppError("CONFIG_INVALID", "Stored CA certificate is not a CA certificate", {
      reason: "CA_NOT_A_CA",
    });
  }

  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey("pkcs8", toArrayBuffer(privateKeyPkcs8), EC_P256, false, [
      "sign",
    ]);
  } catch (cause) {
    throw new AppError(
      "CONFIG_INVALID",
      "Stored CA private key is not an EC P-256 PKCS#8 key",
      { reason: "CA_KEY_INVALID" },
      { cause },
    );
  }

  if (!(await keyMatchesCertificate(privateKey, certificate))) {
    throw new AppError("CONFIG_INVALID", "Stored CA private key does not match the CA certificate", {
      reason: "CA_KEY_MISMATCH",
    });
  }

  return {
    certificate,
    certificatePem: certificate.toString("pem"),
    fingerprint: sha256FingerprintHex(certificate),
    privateKey,
  };
}

async function keyMatchesCertificate(privateKey: CryptoKey, certificate: X509Certificate): Promise<boolean> {
  const challenge = crypto.getRandomValues(new Uint8Array(32));
  const signature = await crypto.subtle.sign(EC_P256, privateKey, challenge);
  const publicKey = await certificate.publicKey.export(EC_P256, ["verify"]);
  return crypto.subtle.verify(EC_P256, publicKey, signature, challenge);
}
