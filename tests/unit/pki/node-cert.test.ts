import { beforeAll, describe, expect, test } from "bun:test";
import { type ClusterCa, createClusterCa } from "../../../src/controller/pki/ca.ts";
import { isIssuedBy } from "../../../src/controller/pki/inspect.ts";
import { signNodeCsr } from "../../../src/controller/pki/node-cert.ts";
import { isValidNodeId } from "../../../src/controller/pki/node-id.ts";
import { isAppError } from "../../../src/core/errors.ts";
import { createNodeKeyAndCsr } from "../../../src/daemon/pki/csr.ts";
import { x509 } from "../../../src/x509/x509.ts";
import { NOW } from "./fixtures.ts";

const DAY = 86_400_000;

function reasonOf(error: unknown): string | undefined {
  return isAppError(error) ? (error.details?.reason as string | undefined) : undefined;
}

async function csrWith(params: {
  name: string;
  algorithm?: { name: "ECDSA"; namedCurve: string; hash: string };
  extensions?: InstanceType<typeof x509.Extension>[];
}): Promise<Uint8Array> {
  const algorithm = params.algorithm ?? { name: "ECDSA" as const, namedCurve: "P-256", hash: "SHA-256" };
  const keys = await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: params.name,
    keys,
    signingAlgorithm: algorithm,
    extensions: params.extensions ?? [],
  });
  return new Uint8Array(csr.rawData);
}

describe("node certificate from a CSR", () => {
  let ca: ClusterCa;
  beforeAll(async () => {
    ca = (await createClusterCa({ now: NOW })).ca;
  });

  test("CN = DNS SAN = node id, clientAuth only, 365 days, 128-bit serial", async () => {
    const { csrDer } = await createNodeKeyAndCsr("node-1.eu");
    const issued = await signNodeCsr(ca, { nodeId: "node-1.eu", csr: csrDer, now: NOW });
    const cert = new x509.X509Certificate(issued.certificatePem);

    expect(cert.subject).toBe("CN=node-1.eu");
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON()).toEqual([
      { type: "dns", value: "node-1.eu" },
    ]);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([
      x509.ExtendedKeyUsage.clientAuth,
    ]);
    expect(cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    expect(Math.round((cert.notAfter.getTime() - NOW.getTime()) / DAY)).toBe(365);
    expect(issued.serialNumber).toMatch(/^[89a-f][0-9a-f]{31}$/);
    expect(await isIssuedBy(issued.certificatePem, ca, NOW)).toBe(true);
  });

  test("accepts the CSR as PEM too", async () => {
    const { csrPem } = await createNodeKeyAndCsr("node-2");
    const issued = await signNodeCsr(ca, { nodeId: "node-2", csr: csrPem, now: NOW });
    expect(issued.nodeId).toBe("node-2");
  });

  test("serials differ between certificates", async () => {
    const { csrDer } = await createNodeKeyAndCsr("node-3");
    const a = await signNodeCsr(ca, { nodeId: "node-3", csr: csrDer, now: NOW });
    const b = await signNodeCsr(ca, { nodeId: "node-3", csr: csrDer, now: NOW });
    expect(a.serialNumber).not.toBe(b.serialNumber);
  });

  test("rejects a CSR whose CN is not the assigned node id", async () => {
    const { csrDer } = await createNodeKeyAndCsr("node-evil");
    const error = await signNodeCsr(ca, { nodeId: "node-1", csr: csrDer, now: NOW }).catch((e: unknown) => e);
    expect(isAppError(error, "INVALID_ARGUMENT")).toBe(true);
    expect(reasonOf(error)).toBe("CSR_NODE_ID_MISMATCH");
  });

  test("rejects a CSR with several CNs", async () => {
    const csr = await csrWith({ name: "CN=node-1, CN=node-2" });
    const error = await signNodeCsr(ca, { nodeId: "node-1", csr, now: NOW }).catch((e: unknown) => e);
    expect(reasonOf(error)).toBe("CSR_NODE_ID_MISMATCH");
  });

  test("rejects a CSR whose signed content was altered (CN swapped after signing)", async () => {
    const csr = await csrWith({ name: "CN=node-1" });
    const text = Buffer.from(csr).toString("latin1");
    const at = text.indexOf("node-1");
    expect(at).toBeGreaterThan(0);
    const tampered = csr.slice();
    tampered[at + 5] = "2".charCodeAt(0);
    const error = await signNodeCsr(ca, { nodeId: "node-2", csr: tampered, now: NOW }).catch(
      (e: unknown) => e,
    );
    expect(reasonOf(error)).toBe("CSR_SIGNATURE_INVALID");
  });

  test("rejects a CSR signed with a key that is not P-256", async () => {
    const csr = await csrWith({
      name: "CN=node-1",
      algorithm: { name: "ECDSA", namedCurve: "P-384", hash: "SHA-384" },
    });
    const error = await signNodeCsr(ca, { nodeId: "node-1", csr, now: NOW }).catch((e: unknown) => e);
    expect(reasonOf(error)).toBe("CSR_KEY_UNSUPPORTED");
  });

  test("rejects bytes that are not a CSR", async () => {
    const error = await signNodeCsr(ca, {
      nodeId: "node-1",
      csr: new Uint8Array([48, 3, 1, 1, 0]),
      now: NOW,
    }).catch((e: unknown) => e);
    expect(reasonOf(error)).toBe("CSR_MALFORMED");
  });

  test("ignores extensions the CSR asks for", async () => {
    const csr = await csrWith({
      name: "CN=node-1",
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "controller.example.net" }]),
      ],
    });
    const issued = await signNodeCsr(ca, { nodeId: "node-1", csr, now: NOW });
    const cert = new x509.X509Certificate(issued.certificatePem);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([
      x509.ExtendedKeyUsage.clientAuth,
    ]);
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON()).toEqual([
      { type: "dns", value: "node-1" },
    ]);
  });

  test("rejects node ids that cannot be a DNS name", async () => {
    expect(isValidNodeId("node_1")).toBe(false);
    expect(isValidNodeId("-node")).toBe(false);
    expect(isValidNodeId("")).toBe(false);
    expect(isValidNodeId("a".repeat(64))).toBe(false);
    expect(isValidNodeId("Node-1.rack-2")).toBe(true);
    const { csrDer } = await createNodeKeyAndCsr("node_1");
    const error = await signNodeCsr(ca, { nodeId: "node_1", csr: csrDer, now: NOW }).catch((e: unknown) => e);
    expect(reasonOf(error)).toBe("NODE_ID_INVALID");
  });
});
