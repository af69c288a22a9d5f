import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseControllerConfig } from "../../../src/config/controller-config.ts";
import { ConfigError } from "../../../src/config/issues.ts";
import {
  CLUSTER_CA_ID,
  CLUSTER_FILES,
  type ClusterCaDoc,
  issueControllerCertificate,
  loadOrCreateClusterCa,
} from "../../../src/controller/pki/cluster-pki-store.ts";
import { clusterSecretFile, resolveClusterSecret } from "../../../src/controller/pki/cluster-secret.ts";
import { isIssuedBy } from "../../../src/controller/pki/index.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { x509 } from "../../../src/x509/x509.ts";
import { tempDir } from "../../support/adapters.ts";

const SECRET = "correct horse battery staple";
const cheap = { scryptLogN: 10 };
const openStore = () => SqliteStore.open({ file: join(tempDir(), "pki.db") });

describe("cluster CA in the durable store", () => {
  test("created once, sealed (never plaintext), EC P-256 with the spec's lifetime; reopened by every controller", async () => {
    const store = await openStore();
    const first = await loadOrCreateClusterCa(store, SECRET, { ...cheap, clusterId: "c-1" });
    const doc = (await store.collection<ClusterCaDoc>(CLUSTER_FILES).get(CLUSTER_CA_ID))!;
    expect(doc.sealedKey).toStartWith("pxsealed:v1:");
    expect(JSON.stringify(doc)).not.toContain("PRIVATE KEY");
    expect(doc.clusterId).toBe("c-1");
    const cert = new x509.X509Certificate(doc.certificatePem);
    const days = (cert.notAfter.getTime() - cert.notBefore.getTime()) / 86_400_000;
    expect(Math.round(days)).toBe(3650);
    expect((cert.publicKey.algorithm as { namedCurve?: string }).namedCurve).toBe("P-256");

    const second = await loadOrCreateClusterCa(store, SECRET, cheap);
    expect(second.ca.fingerprint).toBe(first.ca.fingerprint);
    expect(second.clusterId).toBe("c-1");
  });

  test("two controllers bootstrapping an empty cluster at once end up with the same CA", async () => {
    const store = await openStore();
    const [a, b] = await Promise.all([
      loadOrCreateClusterCa(store, SECRET, cheap),
      loadOrCreateClusterCa(store, SECRET, cheap),
    ]);
    expect(a.ca.fingerprint).toBe(b.ca.fingerprint);
  });

  test("a different cluster secret cannot open it, with an explanation that does not echo the secret", async () => {
    const store = await openStore();
    await loadOrCreateClusterCa(store, SECRET, cheap);
    const error = await loadOrCreateClusterCa(store, "another secret entirely", cheap).catch((e: Error) => e);
    expect((error as Error).message).toContain("security.clusterSecret differs");
    expect((error as Error).message).not.toContain("another secret");
  });

  test("the controller certificate chains to the CA and carries the advertised names", async () => {
    const store = await openStore();
    const { ca } = await loadOrCreateClusterCa(store, SECRET, cheap);
    const issued = await issueControllerCertificate(ca, {
      host: "0.0.0.0",
      advertiseHosts: ["ctl.example", "10.0.0.5"],
    });
    expect(await isIssuedBy(issued.certificatePem, ca, new Date())).toBe(true);
    expect(issued.dnsNames).toEqual(
      expect.arrayContaining(["prexorcloud-controller", "localhost", "ctl.example"]),
    );
    expect(issued.ipAddresses).toEqual(expect.arrayContaining(["127.0.0.1", "10.0.0.5"]));
  });
});

describe("cluster secret", () => {
  const config = (yaml: string, env: Record<string, string> = {}) =>
    parseControllerConfig(yaml, "c.yml", { env });

  test("development: generated once into config/security/cluster-secret, 0600, and reused", () => {
    const root = tempDir();
    const secret = resolveClusterSecret(config(""), root);
    const file = clusterSecretFile(root);
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8").trim()).toBe(secret);
    expect(resolveClusterSecret(config(""), root)).toBe(secret);
  });

  test("configured (file or PREXOR_SECURITY__CLUSTER_SECRET) wins and nothing is written", () => {
    const root = tempDir();
    expect(resolveClusterSecret(config("security:\n  clusterSecret: from-the-yaml-file-123\n"), root)).toBe(
      "from-the-yaml-file-123",
    );
    const fromEnv = config("", { PREXOR_SECURITY__CLUSTER_SECRET: "from-the-environment-456" });
    expect(resolveClusterSecret(fromEnv, root)).toBe("from-the-environment-456");
    expect(existsSync(clusterSecretFile(root))).toBe(false);
  });

  test("production requires it, and a short one is refused; the value never appears in the message", () => {
    const production =
      "runtime:\n  profile: production\nredis:\n  uri: redis://r:6379\nmodules:\n  signing:\n    required: false\n";
    const missing = (() => {
      try {
        config(production);
      } catch (err) {
        return err as ConfigError;
      }
    })();
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing!.issues.map((i) => i.path)).toEqual(["security.clusterSecret"]);
    expect(missing!.message).toContain("PREXOR_SECURITY__CLUSTER_SECRET");
    const short = (() => {
      try {
        config("security:\n  clusterSecret: tiny-secret\n");
      } catch (err) {
        return err as ConfigError;
      }
    })();
    expect(short!.message).toContain("at least 16 characters");
    expect(short!.message).not.toContain("tiny-secret");
    expect(
      config(production, { PREXOR_SECURITY__CLUSTER_SECRET: "long-enough-secret-789" }).security
        .clusterSecret,
    ).toBe("long-enough-secret-789");
  });
});
