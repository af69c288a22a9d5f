/** Shared certificate material for the PKI tests, created once per test file that asks for it. */
import { type ClusterCa, createClusterCa } from "../../../src/controller/pki/ca.ts";
import { signNodeCsr } from "../../../src/controller/pki/node-cert.ts";
import { issueServerCertificate } from "../../../src/controller/pki/server-cert.ts";
import { createNodeKeyAndCsr } from "../../../src/daemon/pki/csr.ts";

export const NOW = new Date("2026-11-23T12:00:00Z");

export interface NodeCredentials {
  readonly nodeId: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export async function makeNode(ca: ClusterCa, nodeId: string, now = new Date()): Promise<NodeCredentials> {
  const { privateKeyPem, csrDer } = await createNodeKeyAndCsr(nodeId);
  const issued = await signNodeCsr(ca, { nodeId, csr: csrDer, now });
  return { nodeId, certificatePem: issued.certificatePem, privateKeyPem };
}

export async function makeCluster(now = new Date()) {
  const { ca, privateKeyPkcs8 } = await createClusterCa({ now });
  const server = await issueServerCertificate(ca, { now });
  return { ca, privateKeyPkcs8, server };
}
