import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseDaemonConfig } from "../../../src/config/daemon-config.ts";
import { startDaemon } from "../../../src/daemon/boot.ts";
import { EnrollmentError, enroll } from "../../../src/daemon/enroll.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import { mintJoinToken } from "../../../src/wire/join-token.ts";
import {
  nodeState,
  startCluster,
  startTestDaemon,
  type TestCluster,
  tempDir,
  waitForState,
} from "./harness.ts";

let cluster: TestCluster;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await cluster.stop();
});

async function enrollWith(token: string, nodeId: string, dir = tempDir("prexor-enrol-")) {
  return enroll({
    address: cluster.grpcAddress,
    joinToken: token,
    nodeId,
    certificateDir: dir,
    daemonVersion: "test",
    log: silentLogger(),
  });
}

async function refusal(work: Promise<unknown>): Promise<string> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EnrollmentError);
  return (error as Error).message;
}

describe("enrolment with a join token", () => {
  test("a daemon redeems a token, stores key, certificate and CA 0600, and comes ONLINE", async () => {
    const token = await cluster.mintToken("enrol-a");
    expect(token).toMatch(/^pxr_[A-Za-z0-9_-]{48}$/);
    const daemon = await startTestDaemon(cluster, "enrol-a", { token });
    stops.push(() => daemon.stop());
    expect(daemon.enrolled).toBe(true);
    const node = await waitForState(cluster, "enrol-a", "ONLINE");
    expect(node.certificate.revoked).toBe(false);
    expect(node.certificate.serial).toMatch(/^[0-9a-f]{32}$/);

    const dir = join(daemon.root, "config/security");
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir).sort()).toEqual(["ca.crt", "node.crt", "node.json", "node.key"]);
    for (const file of readdirSync(dir)) expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);

    // The plaintext token is nowhere in the controller's store; only its hash is.
    const stored = await cluster.running.store.collection("join_tokens").find({});
    expect(JSON.stringify(stored)).not.toContain(token);
    const audit = await cluster.json<{ data: Array<{ action: string; resourceId: string }> }>(
      "GET",
      "/api/v1/audit?action=node.enroll",
    );
    expect(audit.data.map((a) => a.resourceId)).toContain("enrol-a");
  });

  test("a used token is refused with a clear message, and the node keeps working", async () => {
    const token = await cluster.mintToken();
    await enrollWith(token, "enrol-b");
    const message = await refusal(enrollWith(token, "enrol-c"));
    expect(message).toContain("unknown, expired, revoked or already used");
    const logged = await cluster.logs.waitFor(/enrolment refused: join token consumed/);
    expect(logged.nodeId).toBe("enrol-c");
    expect(JSON.stringify(logged)).not.toContain(token);
  });

  test("an expired token is refused", async () => {
    const created = await cluster.json<{ tokenId: string; token: string }>(
      "POST",
      "/api/v1/admin/tokens",
      {},
    );
    const token = created.token;
    // Age the token instead of waiting for it: expiry is a stored instant.
    await cluster.running.store
      .collection("join_tokens")
      .update(created.tokenId, { expiresAt: Date.now() - 1 });
    expect(await refusal(enrollWith(token, "enrol-d"))).toContain("already used");
    await cluster.logs.waitFor(/enrolment refused: join token expired/);
  });

  test("a revoked token is refused", async () => {
    const created = await cluster.json<{ tokenId: string; token: string }>(
      "POST",
      "/api/v1/admin/tokens",
      {},
    );
    expect((await cluster.call("DELETE", `/api/v1/admin/tokens/${created.tokenId}`)).status).toBe(200);
    expect(await refusal(enrollWith(created.token, "enrol-e"))).toContain("revoked");
    await cluster.logs.waitFor(/enrolment refused: join token revoked/);
  });

  test("of two daemons racing with one token exactly one is enrolled", async () => {
    const token = await cluster.mintToken();
    const results = await Promise.allSettled([enrollWith(token, "race-1"), enrollWith(token, "race-2")]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  test("a token bound to a node refuses another node id without being used up", async () => {
    const token = await cluster.mintToken("bound-1");
    expect(await refusal(enrollWith(token, "bound-2"))).toContain('for node "bound-1"');
    const identity = await enrollWith(token, "bound-1");
    expect(identity.nodeId).toBe("bound-1");
  });

  test("a token for an already enrolled node is refused at creation (409)", async () => {
    await enrollWith(await cluster.mintToken("dup-1"), "dup-1");
    const res = await cluster.call("POST", "/api/v1/admin/tokens", { nodeId: "dup-1" });
    expect(res.status).toBe(409);
    // and an unbound token cannot enrol a second certificate for that node id either
    expect(await refusal(enrollWith(await cluster.mintToken(), "dup-1"))).toContain("already enrolled");
  });

  test("a token whose CA pin does not match the controller is never sent", async () => {
    const foreign = mintJoinToken("ab".repeat(32));
    const message = await refusal(enrollWith(foreign, "pin-1"));
    expect(message).toContain("does not match the join token");
    expect(cluster.logs.matching(/enrolment refused/).some((l) => l.nodeId === "pin-1")).toBe(false);
  });

  test("text that is not a join token is refused before any network call", async () => {
    expect(await refusal(enrollWith("hello", "bad-1"))).toContain("not a PrexorCloud join token");
  });

  test("a restart finds the certificate and needs no token; no certificate and no token refuses to start", async () => {
    const token = await cluster.mintToken("restart-1");
    const first = await startTestDaemon(cluster, "restart-1", { token });
    await waitForState(cluster, "restart-1", "ONLINE");
    await first.stop();
    await waitForState(cluster, "restart-1", "OFFLINE");
    // same command line, token already used: ignored because the node is enrolled
    const again = await startTestDaemon(cluster, "restart-1", { token, root: first.root });
    stops.push(() => again.stop());
    expect(again.enrolled).toBe(false);
    await waitForState(cluster, "restart-1", "ONLINE");

    const config = parseDaemonConfig("nodeId: nobody\n", "daemon.yml", { env: {} });
    const error = await startDaemon({ root: tempDir("prexor-none-"), config, log: silentLogger() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EnrollmentError);
    expect((error as Error).message).toContain("not enrolled");
    expect(await nodeState(cluster, "nobody")).toBeNull();
  });
});

describe("join tokens over REST", () => {
  test("create (201, shown once), list without the secret, revoke; ttl strings and bounds", async () => {
    const created = await cluster.call("POST", "/api/v1/admin/tokens", { nodeId: "rest-1", ttl: "30m" });
    expect(created.status).toBe(201);
    const body = (await created.json()) as {
      tokenId: string;
      token: string;
      expiresAt: string;
      caFingerprint: string;
    };
    expect(body.tokenId).toMatch(/^tok_/);
    expect(body.caFingerprint).toBe(cluster.running.pki.ca.fingerprint);
    const minutes = (Date.parse(body.expiresAt) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(29);
    expect(minutes).toBeLessThanOrEqual(30);

    const pending = await cluster.call("POST", "/api/v1/admin/tokens", { nodeId: "rest-1" });
    expect(pending.status).toBe(409);

    const listed = await cluster.json<{ data: Array<Record<string, unknown>>; total: number }>(
      "GET",
      "/api/v1/admin/tokens",
    );
    const mine = listed.data.find((t) => t.tokenId === body.tokenId)!;
    expect(mine.status).toBe("PENDING");
    expect(JSON.stringify(listed)).not.toContain(body.token);

    expect((await cluster.call("DELETE", `/api/v1/admin/tokens/${body.tokenId}`)).status).toBe(200);
    const after = await cluster.json<{ data: Array<Record<string, unknown>> }>("GET", "/api/v1/admin/tokens");
    expect(after.data.find((t) => t.tokenId === body.tokenId)!.status).toBe("REVOKED");
    expect((await cluster.call("DELETE", "/api/v1/admin/tokens/tok_missing")).status).toBe(404);

    expect((await cluster.call("POST", "/api/v1/admin/tokens", { ttl: "soon" })).status).toBe(422);
    expect((await cluster.call("POST", "/api/v1/admin/tokens", { nodeId: "Not Valid!" })).status).toBe(422);
    const actions = await cluster.json<{ data: Array<{ action: string }> }>(
      "GET",
      "/api/v1/audit?resourceType=join-token",
    );
    expect(actions.data.map((a) => a.action)).toEqual(
      expect.arrayContaining(["token.create", "token.revoke"]),
    );
  });
});
