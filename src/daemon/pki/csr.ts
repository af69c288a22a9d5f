import { EC_P256, x509 } from "../../x509/x509.ts";

export interface NodeKeyAndCsr {
  /** PKCS#8 PEM of the node's new private key; never leaves the daemon host. */
  readonly privateKeyPem: string;
  /** PKCS#10 request, DER, as carried by RedeemJoinTokenRequest.csr_der. */
  readonly csrDer: Uint8Array;
  readonly csrPem: string;
}

/**
 * Creates the node's key pair and a CSR whose subject CN is the node id. The controller ignores any
 * requested extensions, so none are asked for.
 */
export async function createNodeKeyAndCsr(nodeId: string): Promise<NodeKeyAndCsr> {
  const keys = await crypto.subtle.generateKey(EC_P256, true, ["sign", "verify"]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [nodeId] }],
    keys,
    signingAlgorithm: EC_P256,
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    privateKeyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
    csrDer: new Uint8Array(csr.rawData),
    csrPem: csr.toString("pem"),
  };
}
