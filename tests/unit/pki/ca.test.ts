import { describe, expect, test } from "bun:test";
import { createClusterCa, loadClusterCa } from "../../../src/controller/pki/ca.ts";
import { isIssuedBy } from "../../../src/controller/pki/inspect.ts";
import { isAppError } from "../../../src/core/errors.ts";
import { x509 } from "../../../src/x509/x509.ts";
import { NOW } from "./fixtures.ts";

const DAY = 86_400_000;

describe("cluster CA", () => {
  test("is a self-signed EC P-256 CA valid for 3650 days", async () => {
    const { ca } = await createClusterCa({ now: NOW, clusterId: "c0ffee" });
    const cert = ca.certificate;
    expect(cert.subject).toBe("CN=PrexorCloud Cluster CA, O=PrexorCloud, OU=c0ffee");
    expect(cert.issuer).toBe(cert.subject);
    expect(await cert.verify({ signatureOnly: true })).toBe(true);
    expect((cert.publicKey.algorithm as { namedCurve?: string }).namedCurve).toBe("P-256");
    expect(Math.round((cert.notAfter.getTime() - NOW.getTime()) / DAY)).toBe(3650);
    expect(cert.notBefore.getTime()).toBeLessThan(NOW.getTime());

    const basic = cert.getExtension(x509.BasicConstraintsExtension);
    expect(basic?.ca).toBe(true);
    expect(basic?.critical).toBe(true);
    const usage = cert.getExtension(x509.KeyUsagesExtension);
    expect(usage?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(cert.serialNumber).toMatch(/^[89a-f][0-9a-f]{31}$/);
    expect(ca.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  test("reloads from its certificate and PKCS#8 key", async () => {
    const created = await createClusterCa({ now: NOW });
    const loaded = await loadClusterCa(created.ca.certificatePem, created.privateKeyPkcs8);
    expect(loaded.fingerprint).toBe(created.ca.fingerprint);
    expect(loaded.privateKey.extractable).toBe(false);
  });

  test("refuses a key that belongs to another CA", async () => {
    const a = await createClusterCa({ now: NOW });
    const b = await createClusterCa({ now: NOW });
    const error = await loadClusterCa(a.ca.certificatePem, b.privateKeyPkcs8).catch((e: unknown) => e);
    expect(isAppError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as { details?: { reason?: string } }).details?.reason).toBe("CA_KEY_MISMATCH");
  });

  test("refuses garbage in place of the key", async () => {
    const a = await createClusterCa({ now: NOW });
    const error = await loadClusterCa(a.ca.certificatePem, new Uint8Array([1, 2, 3])).catch(
      (e: unknown) => e,
    );
    expect((error as { details?: { reason?: string } }).details?.reason).toBe("CA_KEY_INVALID");
  });

  test("a certificate from one CA does not chain to another", async () => {
    const a = await createClusterCa({ now: NOW });
    const b = await createClusterCa({ now: NOW });
    expect(await isIssuedBy(a.ca.certificatePem, a.ca, NOW)).toBe(true);
    expect(await isIssuedBy(a.ca.certificatePem, b.ca, NOW)).toBe(false);
    expect(await isIssuedBy("not a certificate", a.ca, NOW)).toBe(false);
  });
});
