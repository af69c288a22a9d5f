import { beforeAll, describe, expect, test } from "bun:test";
import { type ClusterCa, createClusterCa } from "../../../src/controller/pki/ca.ts";
import { describeCertificate, isIssuedBy, needsRenewal } from "../../../src/controller/pki/inspect.ts";
import { issueServerCertificate } from "../../../src/controller/pki/server-cert.ts";
import { CONTROLLER_TLS_SERVER_NAME } from "../../../src/wire/index.ts";
import { x509 } from "../../../src/x509/x509.ts";
import { NOW } from "./fixtures.ts";

describe("controller server certificate", () => {
  let ca: ClusterCa;
  beforeAll(async () => {
    ca = (await createClusterCa({ now: NOW })).ca;
  });

  test("carries the configured names plus the shared controller name and loopback", async () => {
    const issued = await issueServerCertificate(ca, {
      now: NOW,
      hostnames: ["Controller-1.example.net", "localhost"],
      ipAddresses: ["10.0.0.5", "fd00::5"],
    });
    const cert = new x509.X509Certificate(issued.certificatePem);
    expect(cert.subject).toBe(`CN=${CONTROLLER_TLS_SERVER_NAME}`);
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    const names = san?.names.toJSON().map((n) => `${n.type}:${n.value}`) ?? [];
    expect(names.sort()).toEqual(
      [
        `dns:${CONTROLLER_TLS_SERVER_NAME}`,
        "dns:controller-1.example.net",
        "dns:localhost",
        "ip:10.0.0.5",
        "ip:127.0.0.1",
        "ip:::1",
        "ip:fd00::5",
      ].sort(),
    );
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([
      x509.ExtendedKeyUsage.serverAuth,
    ]);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
  });

  test("is valid for 825 days and chains to the CA", async () => {
    const issued = await issueServerCertificate(ca, { now: NOW });
    const summary = describeCertificate(issued.certificatePem, NOW);
    expect(summary.remainingDays).toBe(825);
    expect(summary.serialNumber).toBe(issued.serialNumber);
    expect(await isIssuedBy(issued.certificatePem, ca, NOW)).toBe(true);
    expect(needsRenewal(issued.certificatePem, NOW, 30)).toBe(false);
    expect(needsRenewal(issued.certificatePem, new Date(NOW.getTime() + 800 * 86_400_000), 30)).toBe(true);
  });

  test("returns a PKCS#8 key that matches the certificate", async () => {
    const issued = await issueServerCertificate(ca, { now: NOW });
    expect(issued.privateKeyPem).toStartWith("-----BEGIN PRIVATE KEY-----");
    const { createPrivateKey, createPublicKey } = await import("node:crypto");
    const fromKey = createPublicKey(createPrivateKey(issued.privateKeyPem)).export({
      format: "der",
      type: "spki",
    });
    const fromCert = createPublicKey(issued.certificatePem).export({ format: "der", type: "spki" });
    expect(Buffer.compare(fromKey, fromCert)).toBe(0);
  });

  test("rejects malformed names", async () => {
    await expect(issueServerCertificate(ca, { now: NOW, hostnames: ["bad name"] })).rejects.toThrow(
      "host name",
    );
    await expect(issueServerCertificate(ca, { now: NOW, ipAddresses: ["300.1.1.1"] })).rejects.toThrow("IP");
  });
});
