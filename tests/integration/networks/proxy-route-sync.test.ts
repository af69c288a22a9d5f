/**
 * The controller half of plugin-less proxy routing, over a real store and real session registries,
 * with time moved only through a manual clock. Faults: the controller holding the proxy's node dies
 * and the node's session opens on another controller (that one sends the current table at once); the
 * daemon restarts (a new session gets the table again even though it did not change); the store
 * goes away (nothing is sent, nothing crashes, the next pass after it is back catches up; once with
 * the networks unreadable, once with a real MongoDB paused behind a fault proxy); a daemon
 * that could not apply a table gets it again after the resend delay.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SessionRegistry } from "../../../src/controller/grpc/session-registry.ts";
import type { InstanceDoc } from "../../../src/controller/instances/instance-doc.ts";
import { InstanceService } from "../../../src/controller/instances/instance-service.ts";
import type { NetworkSpec } from "../../../src/controller/networks/network-service.ts";
import { ProxyRouteSync } from "../../../src/controller/networks/proxy-route-sync.ts";
import { NodeService } from "../../../src/controller/nodes/node-service.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import { MongoStore } from "../../../src/store/mongo/mongo-store.ts";
import type { Doc } from "../../../src/store/port.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import type { ControllerMessage, ProxyRoutes } from "../../../src/wire/index.ts";
import { tempDir } from "../../support/adapters.ts";
import { FaultProxy } from "../../support/fault-proxy.ts";
import { ManualClock } from "../../support/manual-clock.ts";
import { mongoServer } from "../../support/servers.ts";
import { randomId, waitFor } from "../../support/wait.ts";

const store = SqliteStore.open({ file: join(tempDir(), "prexor.db") });
afterAll(() => store.close());

const NETWORK: NetworkSpec = {
  name: "main",
  description: "",
  lobbyGroup: "lobby",
  fallbackGroups: [],
  memberGroups: [],
  proxyGroups: ["proxy"],
  kickMessage: "",
  bedrockLobbyGroup: "",
  bedrockFallbackGroups: [],
  forcedHosts: {},
};
const platforms: Record<string, string> = { proxy: "VELOCITY", lobby: "PAPER" };

/** A daemon session as the registry sees it, recording the ProxyRoutes frames it was handed. */
class RecordingSession {
  readonly certSerial = "serial";
  readonly frames: ProxyRoutes[] = [];
  constructor(
    readonly nodeId: string,
    readonly sessionId: string,
  ) {}
  send(frame: NonNullable<ControllerMessage["frame"]>) {
    if (frame.case === "proxyRoutes") this.frames.push(frame.value);
    return "queued" as const;
  }
  end() {}
  writeFence() {
    return undefined;
  }
  last(): ProxyRoutes | undefined {
    return this.frames.at(-1);
  }
}

let storeDown = false;
function controller(clock: ManualClock) {
  const sessions = new SessionRegistry();
  const sync = new ProxyRouteSync({
    nodes: new NodeService(store),
    instances: new InstanceService(store, { publish: async () => {} }, silentLogger()),
    networks: {
      list: async () => {
        if (storeDown) throw new Error("store unavailable");
        return [NETWORK];
      },
    },
    groups: { resolved: async (name) => ({ platform: platforms[name] ?? "PAPER" }) },
    sessions,
    log: silentLogger(),
    intervalMs: 1_000,
    clock,
  });
  return { sessions, sync };
}

const instances = () => store.collection<InstanceDoc>("instances");
async function put(id: string, group: string, state: InstanceDoc["state"], node: string, port: number) {
  const now = Date.UTC(2026, 0, 1);
  await instances().put({
    _id: id,
    group,
    node,
    state,
    port,
    planHash: "h",
    createdAt: now,
    stateChangedAt: now,
    players: 0,
  });
}
const names = (routes: ProxyRoutes | undefined) => routes?.servers.map((s) => `${s.name}@${s.address}`);

beforeEach(async () => {
  storeDown = false;
  for (const doc of await instances().find({})) await instances().delete(doc._id);
  const nodes = store.collection<Doc & { address: string }>("nodes");
  for (const id of ["node-a", "node-b"])
    await nodes.put({ _id: id, address: id === "node-a" ? "10.0.0.1" : "10.0.0.2" });
  await put("proxy-1", "proxy", "RUNNING", "node-a", 25577);
  await put("lobby-1", "lobby", "RUNNING", "node-b", 30001);
});

describe("proxy route sync", () => {
  test("the controller holding the proxy's node sends; the other one stays quiet", async () => {
    const clock = new ManualClock();
    const a = controller(clock);
    const b = controller(clock);
    const session = new RecordingSession("node-a", "s1");
    a.sessions.register(session);
    await a.sync.syncOnce();
    await b.sync.syncOnce();
    expect(names(session.last())).toEqual(["lobby-1@10.0.0.2:30001"]);
    expect(session.last()!.try).toEqual(["lobby-1"]);
    expect(session.frames).toHaveLength(1);
    // Nothing changed: the next pass sends nothing.
    await a.sync.syncOnce();
    expect(session.frames).toHaveLength(1);
  });

  test("a start, a drain and a stop change the table on the next pass", async () => {
    const clock = new ManualClock();
    const { sessions, sync } = controller(clock);
    const session = new RecordingSession("node-a", "s1");
    sessions.register(session);
    await sync.syncOnce();
    await put("lobby-2", "lobby", "RUNNING", "node-a", 30002);
    await sync.syncOnce();
    expect(names(session.last())).toEqual(["lobby-1@10.0.0.2:30001", "lobby-2@10.0.0.1:30002"]);
    await instances().update("lobby-1", { state: "DRAINING" });
    await sync.syncOnce();
    expect(names(session.last())).toEqual(["lobby-2@10.0.0.1:30002"]);
    await instances().update("lobby-2", { state: "STOPPING" });
    await sync.syncOnce();
    expect(session.last()!.servers).toEqual([]);
    expect(session.frames).toHaveLength(4);
  });

  test("controller killed: the node's new controller sends the current table as soon as the session opens", async () => {
    const clock = new ManualClock();
    const a = controller(clock);
    const b = controller(clock);
    a.sync.start();
    b.sync.start();
    const onA = new RecordingSession("node-a", "s1");
    a.sessions.register(onA);
    await clock.advance(1_000);
    expect(onA.frames).toHaveLength(1);
    // A dies; a backend starts meanwhile; the daemon fails over to B.
    await a.sync.stop();
    await put("lobby-2", "lobby", "RUNNING", "node-b", 30002);
    const onB = new RecordingSession("node-a", "s2");
    b.sessions.register(onB);
    b.sessions.emitOpen("node-a", ["proxy-1"]);
    await clock.advance(100);
    expect(names(onB.last())).toEqual(["lobby-1@10.0.0.2:30001", "lobby-2@10.0.0.2:30002"]);
    await b.sync.stop();
  });

  test("daemon restart: a new session gets the unchanged table again", async () => {
    const clock = new ManualClock();
    const { sessions, sync } = controller(clock);
    const first = new RecordingSession("node-a", "s1");
    sessions.register(first);
    await sync.syncOnce();
    sessions.unregister(first);
    const second = new RecordingSession("node-a", "s2");
    sessions.register(second);
    await sync.syncOnce();
    expect(second.frames).toHaveLength(1);
    expect(second.last()!.revision).toBe(first.last()!.revision);
  });

  test("store down: no table is sent and nothing throws; the next pass after recovery catches up", async () => {
    const clock = new ManualClock();
    const { sessions, sync } = controller(clock);
    const session = new RecordingSession("node-a", "s1");
    sessions.register(session);
    await sync.syncOnce();
    storeDown = true;
    await put("lobby-2", "lobby", "RUNNING", "node-a", 30002);
    await sync.syncOnce();
    expect(session.frames).toHaveLength(1);
    storeDown = false;
    await sync.syncOnce();
    expect(names(session.last())).toEqual(["lobby-1@10.0.0.2:30001", "lobby-2@10.0.0.1:30002"]);
  });

  test("a table the daemon could not apply is sent again after the resend delay; an applied one is not", async () => {
    const clock = new ManualClock();
    const { sessions, sync } = controller(clock);
    sync.start();
    const session = new RecordingSession("node-a", "s1");
    sessions.register(session);
    await clock.advance(1_000);
    expect(session.frames).toHaveLength(1);
    const sent = session.last()!;
    await sessions.emitFrame("node-a", {
      case: "proxyRoutesAck",
      value: {
        instanceId: "proxy-1",
        revision: sent.revision,
        ok: false,
        changed: false,
        error: "disk full",
      },
    });
    await clock.advance(3_000);
    expect(session.frames).toHaveLength(1);
    await clock.advance(3_000);
    expect(session.frames).toHaveLength(2);
    await sessions.emitFrame("node-a", {
      case: "proxyRoutesAck",
      value: { instanceId: "proxy-1", revision: sent.revision, ok: true, changed: true, error: "" },
    });
    await clock.advance(30_000);
    expect(session.frames).toHaveLength(2);
    await sync.stop();
  });
});

const mongo = await mongoServer();

describe.skipIf(mongo.skip !== undefined)("proxy route sync with MongoDB going away", () => {
  test("paused MongoDB: the pass fails without throwing and sends nothing; once healed a pass catches up", async () => {
    const uri = new URL(mongo.server!.uri);
    const proxy = await FaultProxy.start(Number(uri.port));
    const database = randomId("routes_");
    const direct = await MongoStore.connect({ uri: mongo.server!.uri, database });
    const viaProxy = await MongoStore.connect({
      uri: `mongodb://127.0.0.1:${proxy.port}`,
      database,
      operationTimeoutMs: 1_000,
    });
    try {
      const now = Date.UTC(2026, 0, 1);
      const doc = (id: string, group: string, node: string, port: number): InstanceDoc => ({
        _id: id,
        group,
        node,
        state: "RUNNING",
        port,
        planHash: "h",
        createdAt: now,
        stateChangedAt: now,
        players: 0,
      });
      await direct.collection<Doc & { address: string }>("nodes").put({ _id: "node-a", address: "10.0.0.1" });
      await direct.collection<InstanceDoc>("instances").put(doc("proxy-1", "proxy", "node-a", 25577));
      await direct.collection<InstanceDoc>("instances").put(doc("lobby-1", "lobby", "node-a", 30001));
      const sessions = new SessionRegistry();
      const sync = new ProxyRouteSync({
        nodes: new NodeService(viaProxy),
        instances: new InstanceService(viaProxy, { publish: async () => {} }, silentLogger()),
        networks: { list: async () => [NETWORK] },
        groups: { resolved: async (name) => ({ platform: platforms[name] ?? "PAPER" }) },
        sessions,
        log: silentLogger(),
        intervalMs: 1_000,
        clock: new ManualClock(),
      });
      const session = new RecordingSession("node-a", "s1");
      sessions.register(session);
      await sync.syncOnce();
      expect(names(session.last())).toEqual(["lobby-1@10.0.0.1:30001"]);

      proxy.pause();
      await direct.collection<InstanceDoc>("instances").put(doc("lobby-2", "lobby", "node-a", 30002));
      const started = performance.now();
      await sync.syncOnce();
      console.log(
        `outage: a route pass with MongoDB paused gave up after ${Math.round(performance.now() - started)} ms`,
      );
      expect(session.frames).toHaveLength(1);

      // Healed: the driver's pool comes back within a few passes, and the table catches up.
      proxy.heal();
      await waitFor(
        async () => {
          await sync.syncOnce();
          return session.frames.length === 2;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: "a pass after MongoDB came back" },
      );
      expect(names(session.last())).toEqual(["lobby-1@10.0.0.1:30001", "lobby-2@10.0.0.1:30002"]);
    } finally {
      proxy.heal();
      await viaProxy.close();
      await direct.close();
      await proxy.stop();
    }
  });
});
