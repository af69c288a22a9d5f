import { describe, expect, test } from "bun:test";
import { decodeStored, encodeStored, eventView } from "../../../src/controller/events/event-record.ts";
import { parseFilter, resumePosition } from "../../../src/controller/events/sse-stream.ts";
import { SseTickets, TICKET_TTL_MS } from "../../../src/controller/events/sse-tickets.ts";
import { MemoryCoordination } from "../../../src/coord/memory/memory-coordination.ts";

const holder = { username: "alice", role: "VIEWER" };

describe("sse tickets", () => {
  test("24 random bytes, URL-safe base64 without padding, holder recorded", async () => {
    const coord = new MemoryCoordination();
    const tickets = new SseTickets(coord, { randomBytes: (n) => new Uint8Array(n).fill(0xfb) });
    const ticket = await tickets.issue(holder);
    expect(ticket).toBe(Buffer.alloc(24, 0xfb).toString("base64url"));
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await tickets.redeem(ticket)).toEqual(holder);
  });

  test("single use", async () => {
    const tickets = new SseTickets(new MemoryCoordination());
    const ticket = await tickets.issue(holder);
    expect(await tickets.redeem(ticket)).toEqual(holder);
    expect(await tickets.redeem(ticket)).toBeNull();
  });

  test("expires after 30 s", async () => {
    let now = 1_000_000;
    const tickets = new SseTickets(new MemoryCoordination(() => now));
    const young = await tickets.issue(holder);
    const old = await tickets.issue(holder);
    now += TICKET_TTL_MS - 1;
    expect(await tickets.redeem(young)).toEqual(holder);
    now += 1;
    expect(await tickets.redeem(old)).toBeNull();
    expect(TICKET_TTL_MS).toBe(30_000);
  });

  test("forged and malformed tickets are refused without touching the store", async () => {
    const coord = new MemoryCoordination();
    let lookups = 0;
    const take = coord.takeTicket.bind(coord);
    coord.takeTicket = (t) => {
      lookups++;
      return take(t);
    };
    const tickets = new SseTickets(coord);
    expect(await tickets.redeem("A".repeat(32))).toBeNull(); // well-formed, never issued
    expect(lookups).toBe(1);
    for (const bad of [undefined, "", "short", `${"A".repeat(32)}=`, `${"A".repeat(31)}/`, "x".repeat(500)]) {
      expect(await tickets.redeem(bad)).toBeNull();
    }
    expect(lookups).toBe(1);
  });
});

describe("event record", () => {
  test("round-trips through the buffer form; foreign entries decode to null", () => {
    const stored = encodeStored({
      type: "GROUP_CREATED",
      timestamp: "2026-01-01T00:00:00.000Z",
      origin: "ctl-a",
      group: "lobby",
      payload: { groupName: "lobby" },
    });
    expect(decodeStored(7, stored)).toEqual({
      type: "GROUP_CREATED",
      sequence: 7,
      timestamp: "2026-01-01T00:00:00.000Z",
      origin: "ctl-a",
      group: "lobby",
      payload: { groupName: "lobby" },
    });
    expect(decodeStored(1, "not json")).toBeNull();
    expect(decodeStored(1, '{"type":"X"}')).toBeNull();
  });

  test("the client view is the payload plus type and sequence; an own timestamp field wins", () => {
    const base = { sequence: 3, timestamp: "2026-01-01T00:00:00.000Z", origin: "a" };
    expect(eventView({ ...base, type: "GROUP_CREATED", payload: { groupName: "g" } })).toEqual({
      timestamp: "2026-01-01T00:00:00.000Z",
      groupName: "g",
      type: "GROUP_CREATED",
      sequence: 3,
    });
    expect(
      eventView({
        ...base,
        type: "NODE_DRAIN_COMPLETED",
        payload: { nodeId: "n", timestamp: "2025-12-31T23:59:59.000Z" },
      }).timestamp,
    ).toBe("2025-12-31T23:59:59.000Z");
  });
});

describe("stream request parsing", () => {
  test("?lastSequence wins over Last-Event-ID; junk headers mean no position", () => {
    expect(resumePosition(5, "9")).toBe(5);
    expect(resumePosition(undefined, " 9 ")).toBe(9);
    expect(resumePosition(undefined, "abc")).toBeUndefined();
    expect(resumePosition(undefined, "-1")).toBeUndefined();
    expect(resumePosition(undefined, null)).toBeUndefined();
  });

  test("type lists split on commas, blanks dropped", () => {
    expect(parseFilter("A, B,,", "g")).toEqual({ types: new Set(["A", "B"]), group: "g" });
    expect(parseFilter("", undefined)).toEqual({});
  });
});
