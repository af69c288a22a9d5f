import { beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { peerHost } from "../../../src/controller/grpc/transport-guard.ts";
import { emptyCapacity } from "../../../src/controller/nodes/node-doc.ts";
import { type NodeHello, NodeService } from "../../../src/controller/nodes/node-service.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { tempDir } from "../../support/adapters.ts";

let now = 1_000;
let nodes: NodeService;
beforeEach(async () => {
  now = 1_000;
  nodes = new NodeService(await SqliteStore.open({ file: join(tempDir(), "n.db") }), () => now);
});

const hello = (sessionId: string): NodeHello => ({
  sessionId,
  controllerId: "ctl-1",
  daemonVersion: "1",
  protocolVersion: 1,
  labels: { zone: "a" },
  capacity: { ...emptyCapacity(), totalMemoryMb: 8192 },
  usedPorts: [],
  instances: [],
  address: "10.0.0.9",
  host: {},
  certSerial: "aa",
});

describe("node state", () => {
  test("connect → ONLINE; a graceful goodbye → OFFLINE; a broken stream → UNREACHABLE", async () => {
    expect((await nodes.markConnected("n1", hello("s1"))).state).toBe("ONLINE");
    now = 2_000;
    const gone = await nodes.markDisconnected("n1", "s1", "daemon closed the stream", true);
    expect(gone).toMatchObject({ state: "OFFLINE", connected: false, disconnectedAt: 2_000 });
    await nodes.markConnected("n1", hello("s2"));
    expect((await nodes.markDisconnected("n1", "s2", "stream broke", false))?.state).toBe("UNREACHABLE");
  });

  test("a stale session's disconnect does not touch the node a newer session owns", async () => {
    await nodes.markConnected("n1", hello("old"));
    await nodes.markConnected("n1", hello("new"));
    expect(await nodes.markDisconnected("n1", "old", "replaced", false)).toBeNull();
    expect((await nodes.get("n1"))?.state).toBe("ONLINE");
  });

  test("draining survives reconnects and shows as UNREACHABLE while away", async () => {
    await nodes.markConnected("n1", hello("s1"));
    const drain = {
      requestedAt: now,
      deadlineAt: now + 60_000,
      shutdown: false,
      kickMessage: "",
      requestedBy: "admin",
    };
    expect((await nodes.startDrain("n1", drain)).after.state).toBe("DRAINING");
    expect((await nodes.markDisconnected("n1", "s1", "broke", false))?.state).toBe("UNREACHABLE");
    expect((await nodes.markConnected("n1", hello("s2"))).state).toBe("DRAINING");
    expect((await nodes.stopDrain("n1")).after.state).toBe("ONLINE");
  });

  test("silence is conditional on lastSeen, and instances are declared lost only once", async () => {
    await nodes.markConnected("n1", hello("s1"));
    now = 5_000;
    await nodes.recordHeartbeat("n1", { capacity: emptyCapacity(), usedPorts: [], instances: undefined });
    expect(await nodes.markSilent("n1", 4_000, "silent")).toBe(false);
    expect(await nodes.markSilent("n1", 6_000, "silent")).toBe(true);
    const doc = (await nodes.get("n1"))!;
    expect(doc.state).toBe("UNREACHABLE");
    expect(await nodes.markInstancesLost("n1", doc.disconnectedAt!)).toBe(true);
    expect(await nodes.markInstancesLost("n1", doc.disconnectedAt!)).toBe(false);
  });

  test("delete refuses a connected node", async () => {
    await nodes.markConnected("n1", hello("s1"));
    await expect(nodes.delete("n1")).rejects.toThrow("connected");
    await nodes.markDisconnected("n1", "s1", "bye", true);
    expect((await nodes.delete("n1"))._id).toBe("n1");
    expect(await nodes.get("n1")).toBeNull();
  });
});

test("peerHost strips the port from grpc-js peer strings", () => {
  expect(peerHost("10.1.2.3:5000")).toBe("10.1.2.3");
  expect(peerHost("::ffff:127.0.0.1:41234")).toBe("::ffff:127.0.0.1");
  expect(peerHost("[::1]:9090")).toBe("::1");
  expect(peerHost("unknown")).toBe("unknown");
});
