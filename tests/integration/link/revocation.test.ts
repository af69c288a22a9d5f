/**
 * Certificate revocation: the live stream closes at once, reconnects are refused (the daemon keeps
 * retrying and keeps being refused), unrevoke lets it back, and a revocation outlives the
 * coordination store: a wiped Valkey or a fresh in-memory coordination after restart changes
 * nothing, because the durable record is the source of truth and re-asserts the Valkey key.
 */
import { afterAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { freePort } from "../../support/ports.ts";
import { redisServer } from "../../support/servers.ts";
import { waitFor } from "../../support/wait.ts";
import {
  nodeState,
  startCluster,
  startTestDaemon,
  type TestCluster,
  tempDir,
  waitForState,
} from "./harness.ts";

const redis = await redisServer();
const clusters: TestCluster[] = [];
afterAll(async () => {
  for (const c of clusters.splice(0).reverse()) await c.stop();
});

describe("revoking a node certificate", () => {
  test("closes the stream, refuses the daemon's reconnects, and unrevoke lets it back", async () => {
    const cluster = await startCluster();
    clusters.push(cluster);
    const daemon = await startTestDaemon(cluster, "rv-1", { token: await cluster.mintToken("rv-1") });
    const online = await waitForState(cluster, "rv-1", "ONLINE");

    const mark = cluster.logs.lines.length;
    const revoked = await cluster.call("POST", "/api/v1/nodes/rv-1/revoke-cert");
    expect(revoked.status).toBe(200);
    // The revocation closes the stream itself (the daemon is not waiting out a heartbeat): the reason
    // recorded below says so. How fast is a figure for a benchmark, not a bound here.
    await waitFor(() => daemon.link.state !== "connected", { what: "the daemon's stream to close" });
    const offline = await waitForState(cluster, "rv-1", "OFFLINE", 10_000);
    expect(offline.certificate.revoked).toBe(true);
    expect(offline.disconnectReason).toBe("client certificate revoked");

    // The daemon keeps redialling; every attempt is refused and logged.
    await waitFor(
      () =>
        cluster.logs.lines.slice(mark).filter((l) => /Client certificate revoked/.test(String(l.msg)))
          .length >= 2,
      {
        what: "two refused reconnects",
      },
    );
    expect((await nodeState(cluster, "rv-1"))!.connected).toBe(false);
    expect(daemon.link.lastFailure).toContain("revoked");

    const list = await cluster.json<{ data: Array<{ nodeId: string; kind: string; value: string }> }>(
      "GET",
      "/api/v1/nodes/revoked-certs",
    );
    expect(list.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ nodeId: "rv-1", kind: "serial", value: online.certificate.serial }),
        expect.objectContaining({ nodeId: "rv-1", kind: "cn", value: "rv-1" }),
      ]),
    );
    expect(await cluster.running.coord.isRevoked("nodecert-serial", online.certificate.serial)).toBe(true);

    expect((await cluster.call("POST", "/api/v1/nodes/rv-1/unrevoke-cert")).status).toBe(200);
    await waitForState(cluster, "rv-1", "ONLINE", 3000);
    expect(await cluster.running.coord.isRevoked("nodecert-serial", online.certificate.serial)).toBe(false);
    const audit = await cluster.json<{ data: Array<{ action: string }> }>(
      "GET",
      "/api/v1/audit?resourceId=rv-1",
    );
    expect(audit.data.map((a) => a.action)).toEqual(
      expect.arrayContaining(["node.revoke-cert", "node.unrevoke-cert"]),
    );
    await daemon.stop();
  });

  test("re-enrolling a revoked node with a fresh token works; the old certificate stays revoked", async () => {
    const cluster = await startCluster();
    clusters.push(cluster);
    const first = await startTestDaemon(cluster, "rv-2", { token: await cluster.mintToken("rv-2") });
    const before = await waitForState(cluster, "rv-2", "ONLINE");
    expect((await cluster.call("POST", "/api/v1/nodes/rv-2/revoke-cert")).status).toBe(200);
    await first.stop();
    const fresh = await startTestDaemon(cluster, "rv-2", { token: await cluster.mintToken("rv-2") });
    const after = await waitForState(cluster, "rv-2", "ONLINE");
    expect(after.certificate.serial).not.toBe(before.certificate.serial);
    const list = await cluster.json<{ data: Array<{ kind: string; value: string }> }>(
      "GET",
      "/api/v1/nodes/revoked-certs",
    );
    expect(list.data.map((r) => r.value)).toEqual([before.certificate.serial]);
    await fresh.stop();
  });

  test("survives the loss of the coordination store (restart with fresh in-memory coordination)", async () => {
    const root = tempDir("prexor-rv-");
    const grpcPort = await freePort();
    const first = await startCluster({ root, mutate: (c) => (c.grpc.port = grpcPort) });
    const daemon = await startTestDaemon(first, "rv-3", { token: await first.mintToken("rv-3") });
    const node = await waitForState(first, "rv-3", "ONLINE");
    expect((await first.call("POST", "/api/v1/nodes/rv-3/revoke-cert")).status).toBe(200);
    await first.stop();

    const second = await startCluster({ root, logs: first.logs, mutate: (c) => (c.grpc.port = grpcPort) });
    clusters.push(second);
    const mark = second.logs.lines.length;
    await second.logs.waitFor(/gRPC call refused: Client certificate revoked/, mark, 5000);
    expect((await nodeState(second, "rv-3"))!.connected).toBe(false);
    expect(await second.running.coord.isRevoked("nodecert-serial", node.certificate.serial)).toBe(true);
    await daemon.stop();
  });

  test.skipIf(Boolean(redis.skip))(
    "survives a wiped Valkey: still refused, and the key is re-asserted",
    async () => {
      const uri = `${redis.server!.uri}/7`;
      const cluster = await startCluster({ mutate: (c) => (c.redis = { uri, connectTimeoutMs: 2000 }) });
      clusters.push(cluster);
      expect(cluster.running.coord.kind).toBe("valkey");
      const daemon = await startTestDaemon(cluster, "rv-4", { token: await cluster.mintToken("rv-4") });
      const node = await waitForState(cluster, "rv-4", "ONLINE");
      expect((await cluster.call("POST", "/api/v1/nodes/rv-4/revoke-cert")).status).toBe(200);
      await waitForState(cluster, "rv-4", "OFFLINE");

      const client = new Redis(uri);
      try {
        expect(await client.exists(`prexor:v1:nodecert:revoked:serial:${node.certificate.serial}`)).toBe(1);
        await client.flushdb();
        const mark = cluster.logs.lines.length;
        await cluster.logs.waitFor(/gRPC call refused: Client certificate revoked/, mark, 5000);
        await cluster.running.revocations.resync();
        expect(await client.exists(`prexor:v1:nodecert:revoked:serial:${node.certificate.serial}`)).toBe(1);
        expect(await client.pttl(`prexor:v1:nodecert:revoked:cn:rv-4`)).toBeGreaterThan(300 * 86_400_000);
      } finally {
        client.disconnect();
        await daemon.stop();
      }
    },
  );
});
