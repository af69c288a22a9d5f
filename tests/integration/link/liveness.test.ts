/**
 * Heartbeats, unreachability, reconnects with backoff, and reconciliation of what the daemon
 * actually runs. Heartbeat interval 200 ms, missed threshold 3, instance grace 1 s.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ChannelCredentials, createChannel, createClient } from "nice-grpc";
import { loadIdentity } from "../../../src/daemon/identity-store.ts";
import type { LinkInstance, LinkSupervisor } from "../../../src/daemon/link/supervisor-port.ts";
import {
  CONTROLLER_TLS_SERVER_NAME,
  DaemonMessage,
  DaemonServiceDefinition,
  Hello,
  PROTOCOL_VERSION,
} from "../../../src/wire/index.ts";
import { freePort } from "../../support/ports.ts";
import { waitFor } from "../../support/wait.ts";
import {
  nodeState,
  startCluster,
  startTestDaemon,
  type TestCluster,
  tempDir,
  waitForState,
} from "./harness.ts";

const HEARTBEAT_MS = 200;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster({ heartbeatMs: HEARTBEAT_MS, graceMs: 1000 });
});
afterAll(() => cluster.stop());

class FakeSupervisor implements LinkSupervisor {
  instances: LinkInstance[] = [];
  snapshot() {
    return this.instances;
  }
  usedPorts() {
    return this.instances.map((i) => i.port);
  }
}

function instance(instanceId: string, state: LinkInstance["state"] = "RUNNING", port = 30000): LinkInstance {
  return { instanceId, group: "lobby", planHash: "h1", state, port, uptimeMs: 1000 };
}

interface InstanceDoc {
  _id: string;
  group: string;
  node: string;
  state: string;
  port: number;
  lostReason?: string;
  adoptedAt?: number;
}

function metricValue(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const instances = () => cluster.running.store.collection<InstanceDoc>("instances");

describe("liveness", () => {
  test("heartbeats keep a node ONLINE and move lastSeen forward", async () => {
    const daemon = await startTestDaemon(cluster, "beat-1", { token: await cluster.mintToken("beat-1") });
    const first = await waitForState(cluster, "beat-1", "ONLINE");
    const later = await waitFor(
      async () => {
        const node = await nodeState(cluster, "beat-1");
        return node && Date.parse(node.lastSeen!) > Date.parse(first.lastSeen!) ? node : null;
      },
      { what: "a later heartbeat" },
    );
    expect(later.state).toBe("ONLINE");
    // The session counts what crosses it: the Hello and heartbeats in, the HelloAck and pings out.
    const metrics = (await cluster.running.metrics.render()).body;
    expect(
      metricValue(metrics, 'prexorcloud_grpc_daemon_messages_in_total{payload_case="hello"}'),
    ).toBeGreaterThan(0);
    expect(
      metricValue(metrics, 'prexorcloud_grpc_daemon_messages_in_total{payload_case="heartbeat"}'),
    ).toBeGreaterThan(0);
    expect(
      metricValue(
        metrics,
        'prexorcloud_grpc_daemon_messages_out_total{payload_case="helloack",outcome="delivered"}',
      ),
    ).toBeGreaterThan(0);
    await daemon.stop();
    const offline = await waitForState(cluster, "beat-1", "OFFLINE");
    expect(offline.disconnectReason).toBe("daemon closed the stream");
  });

  test("a daemon that goes silent is UNREACHABLE for three missed heartbeats, and its stream is closed", async () => {
    const token = await cluster.mintToken("silent-1");
    const seed = await startTestDaemon(cluster, "silent-1", { token });
    await waitForState(cluster, "silent-1", "ONLINE");
    await seed.stop();
    await waitForState(cluster, "silent-1", "OFFLINE");
    const identity = loadIdentity(join(seed.root, "config/security"))!;

    // A client that says Hello and then never answers a Ping.
    const channel = createChannel(
      cluster.grpcAddress,
      ChannelCredentials.createSsl(
        Buffer.from(identity.caCertificatePem),
        Buffer.from(identity.privateKeyPem),
        Buffer.from(identity.certificatePem),
      ),
      { "grpc.ssl_target_name_override": CONTROLLER_TLS_SERVER_NAME },
    );
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* frames() {
      yield DaemonMessage.create({
        frame: {
          case: "hello",
          value: Hello.create({ nodeId: "silent-1", protocolVersion: PROTOCOL_VERSION }),
        },
      });
      await held;
    }
    const stream = (async () => {
      try {
        for await (const _ of createClient(DaemonServiceDefinition, channel).connect(frames())) {
          // pings arrive and are ignored
        }
        return "ended";
      } catch (err) {
        return String((err as Error).message);
      }
    })();
    const online = await waitForState(cluster, "silent-1", "ONLINE");
    const since = Date.parse(online.lastSeen!);
    const unreachable = await waitForState(cluster, "silent-1", "UNREACHABLE", 10_000);
    expect(Date.parse((await nodeState(cluster, "silent-1"))!.lastSeen!)).toBe(since);
    // declared for three missed intervals (the reason says so), not for anything else
    expect(unreachable.disconnectReason).toContain("missed 3 heartbeats");
    expect(await stream).toContain("missed 3 heartbeats");
    release();
    channel.close();
  });

  test("after a controller restart the daemon redials with growing delays and comes back ONLINE", async () => {
    const root = tempDir("prexor-restart-");
    const grpcPort = await freePort();
    const first = await startCluster({
      root,
      heartbeatMs: HEARTBEAT_MS,
      mutate: (c) => (c.grpc.port = grpcPort),
    });
    const daemon = await startTestDaemon(first, "redial-1", { token: await first.mintToken("redial-1") });
    await waitForState(first, "redial-1", "ONLINE");
    expect(daemon.link.established).toBe(1);

    const mark = first.logs.lines.length;
    await first.stop();
    // Let the daemon fail a few dials against the closed port.
    const failures = () =>
      first.logs.lines.slice(mark).filter((l) => /controller link down/.test(String(l.msg)));
    await waitFor(() => failures().length >= 4, { what: "four failed dials" });
    const delays = failures().map((l) => Number(l.delayMs));
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    expect(delays[2]!).toBeGreaterThan(delays[1]!);
    expect(Math.max(...delays)).toBeLessThanOrEqual(400);

    const second = await startCluster({
      root,
      heartbeatMs: HEARTBEAT_MS,
      logs: first.logs,
      mutate: (c) => (c.grpc.port = grpcPort),
    });
    try {
      await waitForState(second, "redial-1", "ONLINE", 5000);
      await waitFor(() => daemon.link.established === 2, { what: "second session" });
    } finally {
      await daemon.stop();
      await second.stop();
    }
  });
});

describe("reconciliation of what the daemon runs", () => {
  test("Hello adopts unknown instances, marks vanished ones, and heartbeats carry changes", async () => {
    const nodeId = "recon-1";
    await instances().put({ _id: "i-known", group: "lobby", node: nodeId, state: "STARTING", port: 30001 });
    await instances().put({ _id: "i-vanished", group: "lobby", node: nodeId, state: "RUNNING", port: 30002 });
    await instances().put({
      _id: "i-stopping",
      group: "lobby",
      node: nodeId,
      state: "STOPPING",
      port: 30003,
    });
    await instances().put({
      _id: "i-scheduled",
      group: "lobby",
      node: nodeId,
      state: "SCHEDULED",
      port: 30004,
    });
    const supervisor = new FakeSupervisor();
    supervisor.instances = [instance("i-known", "RUNNING", 30001), instance("i-adopted", "RUNNING", 30005)];

    const daemon = await startTestDaemon(cluster, nodeId, {
      token: await cluster.mintToken(nodeId),
      supervisor,
    });
    await waitForState(cluster, nodeId, "ONLINE");
    const byId = async () =>
      Object.fromEntries((await instances().find({ node: nodeId })).map((d) => [d._id, d]));
    const after = await byId();
    expect(after["i-known"]?.state).toBe("RUNNING");
    expect(after["i-vanished"]).toMatchObject({
      state: "CRASHED",
      lostReason: "not running on the node when it reconnected",
    });
    expect(after["i-stopping"]?.state).toBe("STOPPED");
    expect(after["i-scheduled"]?.state).toBe("SCHEDULED");
    expect(after["i-adopted"]?.adoptedAt).toBeNumber();
    expect((await nodeState(cluster, nodeId))!.instances.map((i) => i.instanceId).sort()).toEqual([
      "i-adopted",
      "i-known",
    ]);

    supervisor.instances = [instance("i-known", "STOPPING", 30001)];
    await waitFor(async () => (await byId())["i-adopted"]?.state === "CRASHED", {
      what: "heartbeat reconcile",
    });
    expect((await byId())["i-known"]?.state).toBe("STOPPING");

    // Back within the grace period: nothing is declared lost.
    await daemon.link.stop();
    await waitForState(cluster, nodeId, "OFFLINE");
    expect(cluster.running.sweeper.awaitingLoss(nodeId)).toBe(true);
    const back = await startTestDaemon(cluster, nodeId, { root: daemon.root, supervisor });
    await waitForState(cluster, nodeId, "ONLINE");
    // The reconnect cancelled the grace period: no timer is left that could declare the loss later.
    expect(cluster.running.sweeper.awaitingLoss(nodeId)).toBe(false);
    expect((await byId())["i-known"]?.state).toBe("STOPPING");

    // Gone for longer than the grace period: its instances are lost.
    // A report of STOPPING -> RUNNING is an illegal lifecycle move: refused, the record stays STOPPING.
    supervisor.instances = [instance("i-known", "RUNNING", 30001)];
    await cluster.logs.waitFor(/illegal transition STOPPING -> RUNNING/);
    expect((await byId())["i-known"]?.state).toBe("STOPPING");
    await back.stop();
    await waitFor(async () => (await byId())["i-known"]?.state === "CRASHED", {
      timeoutMs: 3000,
      what: "lost after grace",
    });
    expect((await byId())["i-known"]?.lostReason).toBe("node unreachable");
    await cluster.logs.waitFor(/its instances are lost/);
  });
});
