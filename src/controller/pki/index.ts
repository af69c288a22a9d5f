/**
 * The controller's cluster PKI: CA creation and loading, server and node certificate issuance, CA
 * key sealing, and the TLS plumbing for the gRPC listener. Plain functions; persistence is the
 * caller's job.
 */
export { type ClusterCa, type CreatedClusterCa, createClusterCa, loadClusterCa } from "./ca.ts";
export { type CertificateSummary, describeCertificate, isIssuedBy, needsRenewal } from "./inspect.ts";
export { sealPrivateKey, unsealPrivateKey } from "./key-seal.ts";
export { type IssuedNodeCertificate, signNodeCsr } from "./node-cert.ts";
export { assertValidNodeId, isValidNodeId } from "./node-id.ts";
export {
  createPeerIdentityInterceptor,
  type PeerIdentity,
  type PeerRefusal,
  peerIdentityFromMetadata,
} from "./peer-identity.ts";
export { sha256FingerprintHex } from "./pem.ts";
export * from "./policy.ts";
export { normalizeSerialHex, randomSerialHex } from "./serial.ts";
export { type IssuedServerCertificate, issueServerCertificate } from "./server-cert.ts";
export {
  ControllerServerCredentials,
  type ServerTlsMaterial,
  strictMutualTlsCredentials,
} from "./server-tls.ts";
