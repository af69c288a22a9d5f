import { afterEach, describe, expect, test } from "bun:test";
import { encodeStored } from "../../../src/controller/events/event-record.ts";
import type { BusEvent } from "../../../src/controller/events/event-types.ts";
import type { SseClient } from "../../../src/controller/events/sse-client.ts";
import { SseHub } from "../../../src/controller/events/sse-hub.ts";
import { MemoryCoordination } from "../../../src/coord/memory/memory-coordination.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import { ManualClock } from "../../support/manual-clock.ts";

/**
 * The hub on its own over in-memory coordination: ordering from the shared buffer, resync on
 * loss, the cap, timers that live only while clients do.
 */
const holder = { username: "admin", role: "ADMIN" };
const hubs: SseHub[] = [];
afterEach(() => {
  for (const h of hubs.splice(0)) h.stop();
});

function makeHub(coord: MemoryCoordination, options: Partial<ConstructorParameters<typeof SseHub>[0]> = {}) {
  const hub = new SseHub({ coord, log: silentLogger(), keepAliveMs: 60_000, pollMs: 60_000, ...options });
  hubs.push(hub);
  return hub;
}

/** Appends like another controller would: to the shared buffer only. */
async function appendElsewhere(coord: MemoryCoordination, n: number, max = 2048): Promise<BusEvent> {
  const base = {
    type: "NODE_STATUS" as const,
    timestamp: new Date().toISOString(),
    origin: "ctl-b",
    payload: { nodeId: `n${n}` },
  };
  const sequence = await coord.appendEvent(encodeStored(base as Omit<BusEvent, "sequence">), max);
  return { ...base, sequence } as unknown as BusEvent;
}

type Frame = { id?: string; data: Record<string, unknown> };

const FENCE = ": fence\n\n";

/**
 * Reads `count` data frames from the client's stream (failing after a deadline), then proves nothing
 * else was queued behind them: it writes a fence comment into the same stream and reads up to it, so
 * an extra frame shows up in the result instead of being missed by a read that stopped too early.
 */
async function drainFrames(client: SseClient, count: number, timeoutMs = 5000): Promise<Frame[]> {
  const reader = client.stream.getReader();
  const decoder = new TextDecoder();
  const frames: Frame[] = [];
  let text = "";
  let fenced = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out: ${frames.length} of ${count} frames after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    for (;;) {
      const end = text.indexOf("\n\n");
      if (end >= 0) {
        const raw = text.slice(0, end);
        text = text.slice(end + 2);
        if (`${raw}\n\n` === FENCE) break;
        if (raw.includes("data: ")) {
          frames.push({
            id: raw.match(/^id: (.*)$/m)?.[1],
            data: JSON.parse(raw.match(/^data: (.*)$/m)![1]!) as Record<string, unknown>,
          });
        }
        continue;
      }
      if (frames.length >= count && !fenced) {
        client.write(new TextEncoder().encode(FENCE));
        fenced = true;
      }
      const next = await Promise.race([reader.read(), deadline]);
      if (next.done) break;
      text += decoder.decode(next.value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  return frames;
}

describe("sse hub", () => {
  test("starts at the live edge and fans out in sequence order, filling gaps from the buffer", async () => {
    const coord = new MemoryCoordination();
    await appendElsewhere(coord, 0);
    const hub = makeHub(coord);
    await hub.start();
    expect(hub.position).toBe(1);
    const { client, liveFrom } = hub.admit({ holder, filter: {} })!;
    expect(liveFrom).toBe(1);
    client.goLive();
    const e2 = await appendElsewhere(coord, 2);
    const e3 = await appendElsewhere(coord, 3);
    const e4 = await appendElsewhere(coord, 4);
    // Offered out of order (e.g. 4 was local, 2 and 3 came from another controller): 4 is not
    // next, so the hub reads the buffer and sends 2, 3, 4; the late offers are ignored.
    hub.offer(e4);
    hub.offer(e2);
    hub.offer(e3);
    const frames = await drainFrames(client, 3);
    expect(frames.map((f) => f.data.sequence)).toEqual([2, 3, 4]);
    expect(frames.map((f) => f.id)).toEqual(["2", "3", "4"]);
  });

  test("a notice from another controller makes it read the buffer", async () => {
    const coord = new MemoryCoordination();
    const hub = makeHub(coord);
    await hub.start();
    const { client } = hub.admit({ holder, filter: {} })!;
    client.goLive();
    await appendElsewhere(coord, 1);
    await appendElsewhere(coord, 2);
    hub.poke(2);
    expect((await drainFrames(client, 2)).map((f) => f.data.nodeId)).toEqual(["n1", "n2"]);
    expect(hub.position).toBe(2);
  });

  test("live events trimmed before delivery become RESYNC_REQUIRED for clients behind them", async () => {
    const coord = new MemoryCoordination();
    const hub = makeHub(coord);
    await hub.start();
    const { client } = hub.admit({ holder, filter: {} })!;
    client.goLive();
    for (let i = 1; i <= 10; i++) await appendElsewhere(coord, i, 4); // keeps 7..10
    hub.poke(10);
    const frames = await drainFrames(client, 5);
    expect(frames[0]!.data).toMatchObject({
      type: "RESYNC_REQUIRED",
      lastSequence: 0,
      earliestSequence: 7,
      latestSequence: 10,
    });
    expect(frames[0]!.id).toBe("6");
    expect(frames.slice(1).map((f) => f.data.sequence)).toEqual([7, 8, 9, 10]);
  });

  test("a buffer that started over resets every client's position", async () => {
    let coord = new MemoryCoordination();
    for (let i = 1; i <= 5; i++) await appendElsewhere(coord, i);
    const shared = { current: coord };
    const proxy = new Proxy({} as MemoryCoordination, {
      get: (_t, prop) => {
        const v = Reflect.get(shared.current, prop);
        return typeof v === "function" ? v.bind(shared.current) : v;
      },
    });
    const hub = makeHub(proxy);
    await hub.start();
    const { client } = hub.admit({ holder, filter: {} })!;
    client.goLive();
    coord = new MemoryCoordination(); // "Valkey restarted without its data"
    shared.current = coord;
    const fresh = await appendElsewhere(coord, 100);
    hub.offer(fresh); // sequence 1, below the cursor: ignored as old…
    hub.poke(1); // …but the read sees latest (1) < cursor (5)
    const resync = await drainFrames(client, 1);
    expect(resync.map((f) => f.data)).toMatchObject([
      { type: "RESYNC_REQUIRED", lastSequence: 5, latestSequence: 1 },
    ]);
    hub.offer(await appendElsewhere(coord, 101));
    expect((await drainFrames(client, 1)).map((f) => f.data.nodeId)).toEqual(["n101"]);
  });

  test("holds live events during replay and never sends one twice", async () => {
    const coord = new MemoryCoordination();
    const hub = makeHub(coord);
    await hub.start();
    const { client } = hub.admit({ holder, filter: {}, position: 0 })!;
    const e1 = await appendElsewhere(coord, 1);
    hub.offer(e1); // live while the client is still replaying: held
    client.replay(e1, new TextEncoder().encode(`event: message\nid: 1\ndata: {"sequence":1}\n\n`));
    client.goLive(); // releases the held copy of 1, which it already has
    expect((await drainFrames(client, 1)).map((f) => f.data.sequence)).toEqual([1]);
  });

  test("the cap is enforced at admission and freed on close", async () => {
    const hub = makeHub(new MemoryCoordination(), { maxClients: 2 });
    await hub.start();
    const a = hub.admit({ holder, filter: {} });
    const b = hub.admit({ holder, filter: {} });
    expect(a && b).toBeTruthy();
    expect(hub.admit({ holder, filter: {} })).toBeNull();
    a!.client.close("test");
    expect(hub.connected).toBe(1);
    expect(hub.admit({ holder, filter: {} })).not.toBeNull();
  });

  test("keep-alive and poll timers run only while clients are connected", async () => {
    const clock = new ManualClock();
    const hub = makeHub(new MemoryCoordination(), { keepAliveMs: 10, clock });
    await hub.start();
    expect(clock.scheduled).toEqual([]);
    const a = hub.admit({ holder, filter: {} })!;
    const b = hub.admit({ holder, filter: {} })!;
    a.client.goLive();
    expect(clock.scheduled).toEqual([10, 60_000]);
    await clock.advance(10);
    expect(new TextDecoder().decode((await a.client.stream.getReader().read()).value)).toBe(
      ": keep-alive\n\n",
    );
    a.client.close("gone");
    expect(clock.scheduled).toHaveLength(2);
    await b.client.stream.cancel(); // what Bun does when the peer disconnects
    expect(hub.connected).toBe(0);
    expect(clock.scheduled).toEqual([]);
  });

  test("a client that stops reading is cut off instead of buffering without bound", async () => {
    const hub = makeHub(new MemoryCoordination(), { maxQueuedBytes: 1024 });
    await hub.start();
    const { client } = hub.admit({ holder, filter: {} })!;
    client.goLive();
    const big = new Uint8Array(600);
    for (let i = 0; i < 4 && !client.isClosed; i++) client.write(big);
    client.write(big);
    expect(client.isClosed).toBe(true);
    expect(hub.connected).toBe(0);
  });
});
