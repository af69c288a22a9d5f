import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ndjsonBatches, pipelineBatches } from "../../../src/controller/backup/ndjson-batches.ts";
import type { Doc } from "../../../src/store/port.ts";
import { tempDir } from "../../support/adapters.ts";

const dir = tempDir("prexor-ndjson-");

async function collect(path: string, docs: number, bytes: number): Promise<Doc[][]> {
  const out: Doc[][] = [];
  for await (const b of ndjsonBatches(path, { docs, bytes })) out.push(b);
  return out;
}

test("batches split by count and by bytes, keep order, and read multi-byte text across chunks", async () => {
  // lines long enough that the 1 MiB read chunks cut through lines and through UTF-8 sequences
  const docs = Array.from({ length: 3000 }, (_, i) => ({
    _id: `d-${i}`,
    _rev: 1,
    text: "ü€😀".repeat(200 + (i % 7)),
  }));
  const path = join(dir, "a.ndjson");
  writeFileSync(path, `${docs.map((d) => JSON.stringify(d)).join("\n")}\n`);
  const byCount = await collect(path, 1000, 1 << 30);
  expect(byCount.map((b) => b.length)).toEqual([1000, 1000, 1000]);
  expect(byCount.flat()).toEqual(docs);
  const byBytes = await collect(path, 1 << 30, 100_000);
  expect(byBytes.length).toBeGreaterThan(3);
  expect(byBytes.flat()).toEqual(docs);
});

test("CRLF, blank lines and a last line without a newline are read; a truncated line is an error", async () => {
  const path = join(dir, "b.ndjson");
  writeFileSync(path, '{"_id":"a","_rev":1}\r\n\n{"_id":"b","_rev":1}\r\n{"_id":"c","_rev":1}');
  expect((await collect(path, 10, 1 << 20)).flat().map((d) => d._id)).toEqual(["a", "b", "c"]);
  const cut = join(dir, "c.ndjson");
  writeFileSync(cut, '{"_id":"a","_rev":1}\n{"_id":"b","_r');
  await expect(collect(cut, 10, 1 << 20)).rejects.toThrow();
});

test("a line longer than the batch buffer is read whole, and the batches after it too", async () => {
  const docs = [
    { _id: "small-1", _rev: 1 },
    { _id: "huge", _rev: 1, blob: "é".repeat(300_000) },
    ...Array.from({ length: 20 }, (_, i) => ({ _id: `after-${i}`, _rev: 1 })),
  ];
  const path = join(dir, "e.ndjson");
  writeFileSync(path, `${docs.map((d) => JSON.stringify(d)).join("\r\n")}\r\n`);
  const batches = await collect(path, 5, 100);
  expect(batches.flat()).toEqual(docs);
  expect(batches.every((b) => b.length <= 5)).toBe(true);
});

test("the pipeline writes every batch, at most two at a time, and stops at a failed write", async () => {
  const path = join(dir, "d.ndjson");
  writeFileSync(
    path,
    Array.from({ length: 50 }, (_, i) => JSON.stringify({ _id: `x${i}`, _rev: 1 })).join("\n"),
  );
  const seen: string[] = [];
  let inFlight = 0;
  await pipelineBatches(ndjsonBatches(path, { docs: 7, bytes: 1 << 20 }), async (b) => {
    expect(++inFlight).toBeLessThanOrEqual(2);
    await new Promise((resolve) => setImmediate(resolve)); // one event-loop turn, so a second write can start beside this one
    seen.push(...b.map((d) => d._id));
    inFlight--;
  });
  expect(seen.sort()).toEqual(Array.from({ length: 50 }, (_, i) => `x${i}`).sort());
  let calls = 0;
  const failing = pipelineBatches(ndjsonBatches(path, { docs: 7, bytes: 1 << 20 }), async () => {
    if (++calls === 2) throw new Error("store went away");
  });
  await expect(failing).rejects.toThrow("store went away");
  // the failure stops the reading: at most the batch already in flight beside it ran as well
  expect(calls).toBeLessThanOrEqual(3);
});
