import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { EventInput } from "../../../src/controller/events/event-types.ts";
import { startTestController, type TestController } from "../../support/controller.ts";
import { waitFor } from "../../support/wait.ts";
import { SseReader } from "./sse-reader.ts";

/**
 * The general event stream over real HTTP against an in-process controller (embedded store,
 * in-memory coordination): tickets, connected frame, resume, resync, filters, cap, keep-alive,
 * disconnect clean-up.
 */
let ctl: TestController;
let token: string;

beforeAll(async () => {
  ctl = await startTestController("", (c) => {
    c.sse.maxClients = 3;
    c.sse.replayBufferSize = 32;
    c.sse.keepAliveMs = 150;
  });
  token = await ctl.login();
});
afterAll(() => ctl.stop());

async function ticket(bearer = token): Promise<string> {
  const res = await ctl.call("POST", "/api/v1/events/ticket", { token: bearer });
  expect(res.status).toBe(200);
  return ((await res.json()) as { ticket: string }).ticket;
}

async function stream(query = "", headers: Record<string, string> = {}): Promise<SseReader> {
  const t = await ticket();
  return SseReader.open(`${ctl.url}/api/v1/events/stream?ticket=${t}${query}`, headers);
}

const publish = (event: EventInput) => ctl.running.events.publish(event);
const nodeEvent = (n: number): EventInput => ({
  type: "NODE_STATUS",
  payload: {
    nodeId: `n${n}`,
    cpuUsage: 0.1,
    usedMemoryMb: n,
    totalMemoryMb: 1024,
    lastHeartbeatAt: "2026-01-01T00:00:00Z",
  },
});
const latest = async () => (await ctl.running.coord.eventsAfter(0, 0)).latestSeq;

async function connectedClients(): Promise<number> {
  const text = await (await ctl.call("GET", "/metrics")).text();
  return Number(text.match(/^prexorcloud_sse_clients_connected (\d+)/m)?.[1]);
}

/** A refused stream answers 401 with the JSON error envelope, not 200 plus an error frame. */
async function expectTicketRefused(url: string): Promise<void> {
  const res = await fetch(url);
  expect(res.status).toBe(401);
  expect(res.headers.get("content-type")).toContain("application/json");
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
}

describe("tickets", () => {
  test("issued for a token with events.stream: 24 random bytes, URL-safe base64, no padding", async () => {
    expect((await ctl.call("POST", "/api/v1/events/ticket")).status).toBe(401);
    const a = await ticket();
    const b = await ticket();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(a, "base64url")).toHaveLength(24);
    expect(a).not.toBe(b);
  });

  test("single use: the second connection with the same ticket is refused with a 401 envelope", async () => {
    const t = await ticket();
    const first = await SseReader.open(`${ctl.url}/api/v1/events/stream?ticket=${t}`);
    expect((await first.next()).event).toBe("connected");
    await expectTicketRefused(`${ctl.url}/api/v1/events/stream?ticket=${t}`);
    first.close();
  });

  test("forged, malformed and missing tickets are refused the same way", async () => {
    for (const query of ["?ticket=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "?ticket=not-a-ticket", ""]) {
      await expectTicketRefused(`${ctl.url}/api/v1/events/stream${query}`);
    }
  });
});

describe("stream", () => {
  test("connected first with the latest sequence, then a POST /api/v1/groups arrives as GROUP_CREATED", async () => {
    const before = await latest();
    const reader = await stream();
    const connected = await reader.next();
    expect(connected.event).toBe("connected");
    expect(JSON.parse(connected.data)).toEqual({
      message: "Connected to event stream",
      latestSequence: before,
    });
    const res = await ctl.call("POST", "/api/v1/groups", { token, body: { name: "sse-lobby" } });
    expect(res.status).toBe(201);
    const frame = await reader.next((f) => f.event === "message");
    const data = JSON.parse(frame.data);
    expect(data).toMatchObject({ type: "GROUP_CREATED", groupName: "sse-lobby", sequence: before + 1 });
    expect(frame.id).toBe(String(before + 1));
    expect(Date.parse(data.timestamp)).not.toBeNaN();
    reader.close();
  });

  test("resumes after Last-Event-ID, ?lastSequence wins over the header, no position starts live", async () => {
    const base = await latest();
    for (let i = 1; i <= 5; i++) await publish(nodeEvent(i));
    const byHeader = await stream("", { "last-event-id": String(base + 2) });
    expect((await byHeader.next()).event).toBe("connected");
    expect((await byHeader.messages(3)).map((m) => m.sequence)).toEqual([base + 3, base + 4, base + 5]);

    const byQuery = await stream(`&lastSequence=${base + 4}`, { "last-event-id": String(base) });
    expect((await byQuery.messages(1)).map((m) => m.sequence)).toEqual([base + 5]);

    const live = await stream();
    await live.next((f) => f.event === "connected");

    // The next message on every stream is n6: `live` started at the edge, so it saw nothing before.
    await publish(nodeEvent(6));
    for (const reader of [byHeader, byQuery, live]) {
      expect((await reader.messages(1))[0]).toMatchObject({
        type: "NODE_STATUS",
        nodeId: "n6",
        sequence: base + 6,
      });
      reader.close();
    }
  });

  test("no gap and no duplicate across the replay/live boundary while events keep coming", async () => {
    const base = await latest();
    const total = 25; // within the 32-entry buffer
    let published = 0;
    const publisher = (async () => {
      for (; published < total; published++) {
        await publish(nodeEvent(published));
        // yield to I/O now and then, so the reader connects while events keep coming
        if (published % 3 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    })();
    await waitFor(() => published >= 8, { timeoutMs: 5000, what: "first events" });
    const reader = await stream(`&lastSequence=${base + 2}`);
    await publisher;
    const seqs = (await reader.messages(total - 2, 10_000)).map((m) => m.sequence);
    expect(seqs).toEqual(Array.from({ length: total - 2 }, (_, i) => base + 3 + i));
    // No duplicate behind them: the next message is the next event published.
    await publish(nodeEvent(total));
    expect((await reader.messages(1))[0]).toMatchObject({ sequence: base + total + 1 });
    reader.close();
  });

  test("RESYNC_REQUIRED when the position fell out of the buffer, then live", async () => {
    const first = await latest();
    for (let i = 0; i < 40; i++) await publish(nodeEvent(i)); // buffer keeps the last 32
    const end = await latest();
    const reader = await stream(`&lastSequence=${first + 1}`);
    const resync = await reader.next((f) => f.event === "message");
    expect(resync.id).toBe(String(end));
    expect(JSON.parse(resync.data)).toMatchObject({
      type: "RESYNC_REQUIRED",
      lastSequence: first + 1,
      earliestSequence: end - 31,
      latestSequence: end,
    });
    await publish(nodeEvent(99));
    expect((await reader.messages(1))[0]).toMatchObject({ nodeId: "n99", sequence: end + 1 });
    // A position ahead of the buffer (it started over, e.g. Valkey lost its data) is a resync too.
    const ahead = await stream(`&lastSequence=${end + 1000}`);
    expect((await ahead.messages(1))[0]).toMatchObject({ type: "RESYNC_REQUIRED", lastSequence: end + 1000 });
    reader.close();
    ahead.close();
  });

  test("filters by type list and by group; console output never reaches the stream", async () => {
    const typed = await stream("&types=GROUP_DELETED,INSTANCE_CRASHED,INSTANCE_CONSOLE_OUTPUT");
    const grouped = await stream("&group=survival");
    await typed.next((f) => f.event === "connected");
    await grouped.next((f) => f.event === "connected");
    await publish({
      type: "INSTANCE_CONSOLE_OUTPUT",
      payload: { instanceId: "survival-1", line: "hi", timestampMs: 1 },
    });
    await publish(nodeEvent(1));
    await publish({ type: "GROUP_UPDATED", group: "lobby", payload: { groupName: "lobby" } });
    await publish({ type: "GROUP_UPDATED", group: "survival", payload: { groupName: "survival" } });
    await publish({ type: "GROUP_DELETED", group: "lobby", payload: { groupName: "lobby" } });
    const crash = {
      instanceId: "survival-1",
      group: "survival",
      nodeId: "n1",
      exitCode: 137,
      classification: "OOM",
      logTail: ["Killed"],
      uptimeMs: 5000,
    };
    await publish({ type: "INSTANCE_CRASHED", group: "survival", payload: crash });
    expect((await typed.messages(2)).map((m) => m.type)).toEqual(["GROUP_DELETED", "INSTANCE_CRASHED"]);
    expect((await grouped.messages(2)).map((m) => `${m.type}:${m.groupName ?? m.group}`)).toEqual([
      "GROUP_UPDATED:survival",
      "INSTANCE_CRASHED:survival",
    ]);
    // Nothing else got through either filter: the next message on both is a fence both let pass.
    await publish({
      type: "INSTANCE_CRASHED",
      group: "survival",
      payload: { ...crash, instanceId: "fence" },
    });
    for (const reader of [typed, grouped]) {
      expect((await reader.messages(1))[0]).toMatchObject({ type: "INSTANCE_CRASHED", instanceId: "fence" });
      reader.close();
    }
  });

  test("keep-alive comments flow while nothing happens", async () => {
    const reader = await stream();
    await reader.next((f) => f.event === "connected");
    await waitFor(() => reader.comments.length >= 2, { timeoutMs: 3000, what: "two keep-alives" });
    expect(reader.comments[0]).toBe("keep-alive");
    reader.close();
  });

  test("caps concurrent clients, and a disconnect frees the slot", async () => {
    await waitFor(async () => (await connectedClients()) === 0, {
      timeoutMs: 3000,
      what: "earlier clients gone",
    });
    const open = [await stream(), await stream(), await stream()];
    for (const reader of open) await reader.next((f) => f.event === "connected");
    expect(await connectedClients()).toBe(3);
    const refused = await stream();
    expect(await refused.next()).toMatchObject({
      event: "error",
      data: '{"message":"Too many connections"}',
    });
    await refused.ended;

    open.pop()?.close();
    await waitFor(async () => (await connectedClients()) === 2, {
      timeoutMs: 3000,
      what: "the slot to free",
    });
    const again = await stream();
    expect((await again.next()).event).toBe("connected");
    for (const reader of [...open, again]) reader.close();
    await waitFor(async () => (await connectedClients()) === 0, {
      timeoutMs: 3000,
      what: "all clients gone",
    });
  });
});

describe("recent events", () => {
  test("lists the buffer newest first, paged and filtered; needs events.view", async () => {
    expect((await ctl.call("GET", "/api/v1/events/recent")).status).toBe(401);
    await publish({ type: "GROUP_UPDATED", group: "recent", payload: { groupName: "recent" } });
    await publish({ type: "GROUP_DELETED", group: "recent", payload: { groupName: "recent" } });
    const res = await ctl.call("GET", "/api/v1/events/recent?group=recent&pageSize=1&page=1", { token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      data: Array<Record<string, unknown>>;
      total: number;
      pageSize: number;
    };
    expect(body.total).toBe(2);
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ type: "GROUP_DELETED", groupName: "recent" });
    const all = (await (await ctl.call("GET", "/api/v1/events/recent?pageSize=500", { token })).json()) as {
      data: Array<{ sequence: number }>;
      total: number;
    };
    expect(all.total).toBeLessThanOrEqual(32);
    const seqs = all.data.map((e) => e.sequence);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
  });
});

describe("shutdown", () => {
  test("stopping the controller ends open streams instead of waiting on them", async () => {
    const local = await startTestController();
    const bearer = await local.login();
    const t = (
      (await (await local.call("POST", "/api/v1/events/ticket", { token: bearer })).json()) as {
        ticket: string;
      }
    ).ticket;
    const reader = await SseReader.open(`${local.url}/api/v1/events/stream?ticket=${t}`);
    await reader.next((f) => f.event === "connected");
    // Keep-alives would hold an abandoned stream open forever: ending at all is the behaviour.
    await local.stop();
    await waitFor(() => reader.isEnded, { timeoutMs: 10_000, what: "the stream to end" });
  });
});
