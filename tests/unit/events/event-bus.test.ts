import { describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { EventBus } from "../../../src/controller/events/event-bus.ts";
import type { BusEvent } from "../../../src/controller/events/event-types.ts";
import { MemoryCoordination } from "../../../src/coord/memory/memory-coordination.ts";
import type { Coordination } from "../../../src/coord/port.ts";
import { createLogger, type Logger } from "../../../src/log/logger.ts";
import { waitFor } from "../../support/wait.ts";

function capturingLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger({ level: "DEBUG", format: "JSON", destination }), lines };
}

function bus(coord: Coordination = new MemoryCoordination(), log = capturingLogger().log) {
  return new EventBus({
    coord,
    controllerId: "ctl-a",
    log,
    bridge: false,
    now: () => Date.UTC(2026, 0, 2, 3, 4, 5),
  });
}

describe("event bus", () => {
  test("events get increasing sequences from the replay buffer, a timestamp and the origin", async () => {
    const coord = new MemoryCoordination();
    const b = bus(coord);
    const seen: BusEvent[] = [];
    b.onAny((e) => {
      seen.push(e);
    });
    await b.publish({ type: "GROUP_CREATED", group: "lobby", payload: { groupName: "lobby" } });
    await b.publish({ type: "GROUP_DELETED", group: "lobby", payload: { groupName: "lobby" } });
    await waitFor(() => seen.length === 2, { what: "both events delivered" });
    expect(seen.map((e) => [e.type, e.sequence])).toEqual([
      ["GROUP_CREATED", 1],
      ["GROUP_DELETED", 2],
    ]);
    expect(seen[0]).toMatchObject({
      origin: "ctl-a",
      group: "lobby",
      timestamp: "2026-01-02T03:04:05.000Z",
      payload: { groupName: "lobby" },
    });
    const window = await coord.eventsAfter(0, 10);
    expect(window.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(JSON.parse(window.events[0]!.payload)).toMatchObject({ type: "GROUP_CREATED", origin: "ctl-a" });
  });

  test("typed subscriptions see their type only; predicates narrow them; unsubscribe stops delivery", async () => {
    const b = bus();
    const created: string[] = [];
    const survival: string[] = [];
    const any: string[] = [];
    const sub = b.on("GROUP_CREATED", (e) => {
      created.push(e.payload.groupName); // typed: payload is { groupName }
    });
    b.on(
      "GROUP_UPDATED",
      (e) => {
        survival.push(e.payload.groupName);
      },
      (e) => e.group === "survival",
    );
    b.onAny((e) => {
      any.push(e.type);
    });
    await b.publish({ type: "GROUP_CREATED", group: "a", payload: { groupName: "a" } });
    await b.publish({ type: "GROUP_UPDATED", group: "lobby", payload: { groupName: "lobby" } });
    await b.publish({ type: "GROUP_UPDATED", group: "survival", payload: { groupName: "survival" } });
    await waitFor(() => any.length === 3, { what: "three events delivered" });
    sub.unsubscribe();
    await b.publish({ type: "GROUP_CREATED", group: "b", payload: { groupName: "b" } });
    // Handlers run in the order they subscribed: once the catch-all (subscribed after `sub`) has the
    // fourth event, `sub` would already have had it too.
    await waitFor(() => any.length === 4, { what: "the fourth event delivered" });
    expect(created).toEqual(["a"]);
    expect(survival).toEqual(["survival"]);
    expect(any).toEqual(["GROUP_CREATED", "GROUP_UPDATED", "GROUP_UPDATED", "GROUP_CREATED"]);
  });

  test("a handler that throws or rejects is logged and hurts neither the publisher nor the others", async () => {
    const { log, lines } = capturingLogger();
    const b = bus(new MemoryCoordination(), log);
    const got: number[] = [];
    b.onAny(() => {
      throw new Error("sync boom");
    });
    b.onAny(async () => {
      throw new Error("async boom");
    });
    b.onAny((e) => {
      got.push(e.sequence);
    });
    await b.publish({ type: "MAINTENANCE_UPDATED", payload: { globalEnabled: true, message: "x" } });
    const failed = () => lines.filter((l) => l.msg === "event handler failed");
    await waitFor(() => got.length === 1 && failed().length === 2, {
      what: "delivery and both failures logged",
    });
    expect(got).toEqual([1]);
    const failures = failed();
    expect(failures.map((l) => (l.err as { message: string }).message).sort()).toEqual([
      "async boom",
      "sync boom",
    ]);
  });

  test("handlers share one frozen copy: the publisher's object is untouched, nobody can edit it", async () => {
    const b = bus();
    const payload = { groupName: "lobby" };
    let received: BusEvent | undefined;
    b.onAny((e) => {
      received = e;
    });
    await b.publish({ type: "GROUP_CREATED", payload });
    await waitFor(() => received, { what: "the event delivered" });
    expect(received?.payload).not.toBe(payload);
    expect(Object.isFrozen(received)).toBe(true);
    expect(Object.isFrozen(received?.payload)).toBe(true);
    expect(Object.isFrozen(payload)).toBe(false);
  });

  test("console output is delivered in-process but never enters the replay buffer", async () => {
    const coord = new MemoryCoordination();
    const b = bus(coord);
    const seen: BusEvent[] = [];
    b.on("INSTANCE_CONSOLE_OUTPUT", (e) => {
      seen.push(e);
    });
    await b.publish({
      type: "INSTANCE_CONSOLE_OUTPUT",
      payload: { instanceId: "i", line: "Done", timestampMs: 1 },
    });
    await waitFor(() => seen.length === 1, { what: "the console line delivered" });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.sequence).toBe(0);
    expect((await coord.eventsAfter(0, 10)).latestSeq).toBe(0);
  });

  test("an unreachable buffer costs the event its sequence, not its delivery, and warns once per 10 s", async () => {
    const coord = new MemoryCoordination();
    coord.appendEvent = () => Promise.reject(new Error("valkey down"));
    const { log, lines } = capturingLogger();
    const b = bus(coord, log);
    const seen: number[] = [];
    b.onAny((e) => {
      seen.push(e.sequence);
    });
    await b.publish({ type: "GROUP_CREATED", payload: { groupName: "a" } });
    await b.publish({ type: "GROUP_CREATED", payload: { groupName: "b" } });
    await waitFor(() => seen.length === 2, { what: "both events delivered" });
    expect(seen).toEqual([0, 0]);
    expect(lines.filter((l) => String(l.msg).startsWith("replay buffer unreachable"))).toHaveLength(1);
  });

  test("custom events reach catch-all subscribers and the buffer as {type, source, payload}; built-in names are refused", async () => {
    const coord = new MemoryCoordination();
    const b = bus(coord);
    const any: BusEvent[] = [];
    const typed: string[] = [];
    b.onAny((e) => {
      any.push(e);
    });
    b.on("GROUP_CREATED", (e) => {
      typed.push(e.type);
    });
    await b.publishCustom({
      type: "ARENA:STARTED",
      source: "game-1",
      group: "game",
      payload: { arena: "a1" },
    });
    await expect(
      b.publishCustom({ type: "GROUP_CREATED", source: "game-1", payload: { groupName: "x" } }),
    ).rejects.toThrow(/built-in/);
    await waitFor(() => any.length === 1, { what: "the custom event delivered" });
    expect(typed).toEqual([]);
    expect(any.map((e) => [e.type, e.sequence, e.group])).toEqual([["ARENA:STARTED", 1, "game"]]);
    expect(any[0]!.payload).toEqual({ source: "game-1", payload: { arena: "a1" } } as never);
    const stored = JSON.parse((await coord.eventsAfter(0, 10)).events[0]!.payload);
    expect(stored).toMatchObject({
      type: "ARENA:STARTED",
      payload: { source: "game-1", payload: { arena: "a1" } },
    });
  });
});
