import { describe, expect, test } from "bun:test";
import { FloodGate } from "../../../src/daemon/supervisor/flood-gate.ts";
import { cleanConsoleLine, InstanceConsole } from "../../../src/daemon/supervisor/index.ts";
import { LineSplitter } from "../../../src/daemon/supervisor/line-splitter.ts";
import { RingBuffer } from "../../../src/daemon/supervisor/ring-buffer.ts";

const ESC = "\x1b";

describe("cleanConsoleLine", () => {
  test("strips colour codes, readline cursor moves and prompt residue", () => {
    const raw = `> ${ESC}[1GNovember 23rd 2026, 17:20:38 [${ESC}[32mINFO${ESC}[39m]: [CHAT]: [Server] hello\r`;
    expect(cleanConsoleLine(raw)).toBe("November 23rd 2026, 17:20:38 [INFO]: [CHAT]: [Server] hello");
  });

  test("strips repeated prompts and leaves inner '>' alone", () => {
    expect(cleanConsoleLine("> > > a > b")).toBe("a > b");
    expect(cleanConsoleLine("<Steve> hi")).toBe("<Steve> hi");
  });

  test("a prompt-only line becomes empty", () => {
    expect(cleanConsoleLine(`> ${ESC}[1G`)).toBe("");
  });
});

describe("LineSplitter", () => {
  test("joins lines split across chunks, including a multi-byte character", () => {
    const splitter = new LineSplitter();
    const bytes = new TextEncoder().encode("first\nsecönd\r\nthi");
    const cut = 10; // between the two bytes of "ö"
    expect([...splitter.push(bytes.slice(0, cut)), ...splitter.push(bytes.slice(cut))]).toEqual([
      "first",
      "secönd\r",
    ]);
    expect(splitter.end()).toEqual(["thi"]);
  });

  test("cuts an endless line at the length cap", () => {
    const splitter = new LineSplitter(4);
    expect(splitter.push(new TextEncoder().encode("abcdefghij"))).toEqual(["abcd", "efgh"]);
    expect(splitter.end()).toEqual(["ij"]);
  });
});

describe("RingBuffer", () => {
  test("keeps the newest entries in order", () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 1; i <= 5; i++) ring.push(i);
    expect(ring.toArray()).toEqual([3, 4, 5]);
    expect(ring.toArray(2)).toEqual([4, 5]);
    expect(ring.size).toBe(3);
  });

  test("below capacity returns what it has", () => {
    const ring = new RingBuffer<string>(10);
    ring.push("a");
    expect(ring.toArray(5)).toEqual(["a"]);
  });
});

describe("FloodGate", () => {
  test("admits up to the cap per second and reports what it shed", () => {
    const gate = new FloodGate(2);
    expect(gate.admit(1000)).toEqual({ admitted: true, droppedBefore: 0 });
    expect(gate.admit(1100).admitted).toBe(true);
    expect(gate.admit(1200).admitted).toBe(false);
    expect(gate.admit(1999).admitted).toBe(false);
    expect(gate.admit(2000)).toEqual({ admitted: true, droppedBefore: 2 });
    expect(gate.admit(2001)).toEqual({ admitted: true, droppedBefore: 0 });
  });
});

describe("InstanceConsole", () => {
  test("the ring keeps every cleaned line; subscribers get at most the cap per second", () => {
    let now = 0;
    const console = new InstanceConsole({ capacity: 100, maxLinesPerSecond: 3, now: () => now });
    const delivered: { line: string; droppedBefore: number; sequence: number }[] = [];
    console.subscribe((d) => delivered.push(d));
    for (let i = 0; i < 10; i++) console.push("stdout", `${ESC}[32mline ${i}`);
    now = 1000;
    console.push("stderr", "after the flood");

    expect(console.tail()).toHaveLength(11);
    expect(console.tail(1)).toEqual(["after the flood"]);
    expect(delivered.map((d) => d.line)).toEqual(["line 0", "line 1", "line 2", "after the flood"]);
    expect(delivered.at(-1)).toMatchObject({ droppedBefore: 7, sequence: 11 });
  });

  test("subscribe replays the backlog, unsubscribe stops delivery, noise lines are dropped", () => {
    const console = new InstanceConsole({ capacity: 2, maxLinesPerSecond: 100 });
    console.push("stdout", "a");
    console.push("stdout", "> ");
    console.push("stdout", "b");
    console.push("stdout", "c");
    const seen: string[] = [];
    const unsubscribe = console.subscribe((d) => seen.push(d.line), { backlog: 5 });
    console.push("stdout", "d");
    unsubscribe();
    console.push("stdout", "e");
    expect(seen).toEqual(["b", "c", "d"]);
    expect(console.entries().map((e) => e.sequence)).toEqual([4, 5]);
  });

  test("a throwing subscriber does not stop the others or the reader", () => {
    const errors: unknown[] = [];
    const console = new InstanceConsole({
      capacity: 5,
      maxLinesPerSecond: 100,
      onListenerError: (e) => errors.push(e),
    });
    const seen: string[] = [];
    console.subscribe(() => {
      throw new Error("boom");
    });
    console.subscribe((d) => seen.push(d.line));
    console.push("stdout", "x");
    expect(seen).toEqual(["x"]);
    expect(errors).toHaveLength(1);
  });

  test("watchers see every line, uncapped", () => {
    const console = new InstanceConsole({ capacity: 5, maxLinesPerSecond: 1, now: () => 0 });
    const watched: string[] = [];
    console.watch((entry) => watched.push(entry.line));
    console.subscribe(() => undefined);
    for (const line of ["a", "b", "c"]) console.push("stdout", line);
    expect(watched).toEqual(["a", "b", "c"]);
  });
});
