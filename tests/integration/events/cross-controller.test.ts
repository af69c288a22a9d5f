import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { EventBus } from "../../../src/controller/events/event-bus.ts";
import type { BusEvent } from "../../../src/controller/events/event-types.ts";
import { SseHub } from "../../../src/controller/events/sse-hub.ts";
import { ValkeyCoordination } from "../../../src/coord/valkey/valkey-coordination.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import { startTestController, type TestController } from "../../support/controller.ts";
import { redisServer } from "../../support/servers.ts";
import { randomId, waitFor } from "../../support/wait.ts";
import { SseReader } from "./sse-reader.ts";

/**
 * Several controllers over one real redis-server: the pub/sub bridge between buses, SSE clients
 * on one controller seeing events published on another, and the replay buffer outliving a
 * controller restart.
 */
const redis = await redisServer();
const uri = redis.server?.uri ?? "";
const skip = redis.skip !== undefined;

/** A "controller": its own connections, bus and hub, sharing the store under one key prefix. */
async function node(id: string, prefix: string) {
  const coord = await ValkeyCoordination.connect({ uri, keyPrefix: prefix });
  const hub = new SseHub({ coord, log: silentLogger(), pollMs: 60_000, keepAliveMs: 60_000 });
  await hub.start();
  const bus = new EventBus({ coord, controllerId: id, log: silentLogger(), sink: hub });
  await bus.start();
  const seen: BusEvent[] = [];
  bus.onAny((e) => {
    seen.push(e);
  });
  return {
    bus,
    hub,
    seen,
    close: async () => {
      hub.stop();
      await bus.stop();
      await coord.close();
    },
  };
}

async function textOf(stream: ReadableStream<Uint8Array>, until: (text: string) => boolean): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  const deadline = Date.now() + 5000;
  while (!until(text) && Date.now() < deadline) {
    const next = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => null)]);
    if (!next || next.done) break;
    text += new TextDecoder().decode(next.value);
  }
  reader.releaseLock();
  return text;
}

describe.skipIf(skip)("event bridge (two buses, one Valkey)", () => {
  test("bridged types reach the other controller's subscribers once, tagged with their origin", async () => {
    const prefix = `${randomId("bridge")}:`;
    const a = await node("ctl-a", prefix);
    const b = await node("ctl-b", prefix);
    try {
      await a.bus.publish({ type: "GROUP_CREATED", group: "lobby", payload: { groupName: "lobby" } });
      await a.bus.publish({
        type: "INSTANCE_CRASHED",
        group: "lobby",
        payload: {
          instanceId: "lobby-1",
          group: "lobby",
          nodeId: null,
          exitCode: 1,
          classification: "CRASH",
          logTail: [],
          uptimeMs: 5,
        },
      });
      await b.bus.publish({ type: "NODE_CONNECTED", payload: { nodeId: "n1", sessionId: "s1" } });
      await waitFor(() => a.seen.length >= 3 && b.seen.length >= 2, {
        timeoutMs: 5000,
        what: "bridged events",
      });
      // Fences: one more bridged event each way. The bridge channel delivers in order, so an echo of
      // either bus's own earlier messages would arrive before the other's fence does.
      await b.bus.publish({ type: "NODE_CONNECTED", payload: { nodeId: "fence-b", sessionId: "s2" } });
      await waitFor(() => a.seen.length >= 4, { timeoutMs: 5000, what: "B's fence on A" });
      await a.bus.publish({ type: "NODE_CONNECTED", payload: { nodeId: "fence-a", sessionId: "s3" } });
      await waitFor(() => b.seen.length >= 4, { timeoutMs: 5000, what: "A's fence on B" });
      expect(a.seen.map((e) => `${e.type}@${e.origin}#${e.sequence}`)).toEqual([
        "GROUP_CREATED@ctl-a#1",
        "INSTANCE_CRASHED@ctl-a#2",
        "NODE_CONNECTED@ctl-b#3",
        "NODE_CONNECTED@ctl-b#4",
        "NODE_CONNECTED@ctl-a#5",
      ]);
      // INSTANCE_CRASHED is not a bridged type: B's subscribers never hear of it.
      expect(b.seen.map((e) => `${e.type}@${e.origin}#${e.sequence}`)).toEqual([
        "GROUP_CREATED@ctl-a#1",
        "NODE_CONNECTED@ctl-b#3",
        "NODE_CONNECTED@ctl-b#4",
        "NODE_CONNECTED@ctl-a#5",
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("an SSE client on B gets every event published on A, bridged or not, in order", async () => {
    const prefix = `${randomId("bridge")}:`;
    const a = await node("ctl-a", prefix);
    const b = await node("ctl-b", prefix);
    try {
      const { client } = b.hub.admit({ holder: { username: "u", role: "VIEWER" }, filter: {} })!;
      client.goLive();
      await a.bus.publish({ type: "GROUP_CREATED", group: "g", payload: { groupName: "g" } });
      await a.bus.publish({
        type: "TEMPLATE_UPDATED",
        payload: { templateName: "t", oldHash: null, newHash: "h" },
      });
      await b.bus.publish({ type: "GROUP_DELETED", group: "g", payload: { groupName: "g" } });
      const text = await textOf(client.stream, (t) => t.includes("id: 3\n"));
      const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      expect(ids).toEqual([1, 2, 3]);
      expect(text).toContain('"type":"TEMPLATE_UPDATED"');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe.skipIf(skip)("controllers sharing Valkey", () => {
  let a: TestController;
  let b: TestController;
  beforeAll(async () => {
    const yaml = `redis:\n  uri: ${uri}`;
    a = await startTestController(yaml);
    b = await startTestController(yaml);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  test("a client streaming from B sees a group created through A's REST API", async () => {
    const tokenA = await a.login();
    // Tickets live in Valkey too: issued by A, redeemed on B.
    const res = await a.call("POST", "/api/v1/events/ticket", { token: tokenA });
    const { ticket } = (await res.json()) as { ticket: string };
    const reader = await SseReader.open(`${b.url}/api/v1/events/stream?ticket=${ticket}&types=GROUP_CREATED`);
    expect((await reader.next()).event).toBe("connected");
    const name = randomId("grp");
    expect((await a.call("POST", "/api/v1/groups", { token: tokenA, body: { name } })).status).toBe(201);
    expect((await reader.messages(1))[0]).toMatchObject({ type: "GROUP_CREATED", groupName: name });
    reader.close();
  });

  test("events survive a controller restart: a new controller replays them and continues the sequence", async () => {
    const token = await a.login();
    const before = (await a.running.coord.eventsAfter(0, 0)).latestSeq;
    const names = [randomId("r"), randomId("r")];
    for (const name of names) {
      expect((await a.call("POST", "/api/v1/groups", { token, body: { name } })).status).toBe(201);
    }
    await a.stop();
    a = await startTestController(`redis:\n  uri: ${uri}`);
    const fresh = await a.login();
    const { ticket } = (await (await a.call("POST", "/api/v1/events/ticket", { token: fresh })).json()) as {
      ticket: string;
    };
    const reader = await SseReader.open(
      `${a.url}/api/v1/events/stream?ticket=${ticket}&lastSequence=${before}&types=GROUP_CREATED`,
    );
    const connected = JSON.parse((await reader.next()).data) as { latestSequence: number };
    expect(connected.latestSequence).toBeGreaterThanOrEqual(before + 2);
    const replayed = await reader.messages(2);
    expect(replayed.map((m) => m.groupName)).toEqual(names);
    await a.running.events.publish({
      type: "GROUP_CREATED",
      group: "after",
      payload: { groupName: "after" },
    });
    const [live] = await reader.messages(1);
    expect(live).toMatchObject({ groupName: "after" });
    expect(live!.sequence as number).toBeGreaterThan(replayed[1]!.sequence as number);
    reader.close();
  });
});
