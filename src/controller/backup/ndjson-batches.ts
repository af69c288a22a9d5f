import { createReadStream } from "node:fs";
import type { Doc } from "../../store/port.ts";

export interface BatchLimits {
  /** documents per batch */
  docs: number;
  /** NDJSON bytes per batch: keeps one insert well inside the driver's socket bound */
  bytes: number;
}

export const DEFAULT_BATCH: BatchLimits = { docs: 2500, bytes: 512 << 10 };

const OPEN = 0x5b; // [
const COMMA = 0x2c;
const CLOSE = 0x5d; // ]
const NEWLINE = 0x0a;
const RETURN = 0x0d;

/**
 * Streams one NDJSON file in batches; memory holds one batch and one read chunk. The lines' bytes
 * are copied straight from the read chunks into one reused buffer as a JSON array (`[a,b,…]`),
 * which is decoded and parsed once per batch: no string per chunk, per line or per join, which
 * were about half of a restore's garbage, and one `JSON.parse` per batch, not one per line.
 * `bytes` counts the lines' UTF-8 bytes. A newline byte never occurs inside a UTF-8 sequence, so
 * every batch is whole text however the chunks cut the file.
 */
export async function* ndjsonBatches(
  path: string,
  limits: BatchLimits = DEFAULT_BATCH,
): AsyncIterable<Doc[]> {
  const usual = limits.bytes + 64 * 1024;
  let scratch = Buffer.allocUnsafe(usual);
  let length = 0; // bytes of the batch so far, "[" and commas included
  let docs = 0;
  let separator = -1; // where the line being read put its "[" or ",", -1 between lines
  const reserve = (more: number) => {
    if (length + more + 1 <= scratch.length) return;
    // one line longer than the usual batch: grow for it, back to the usual size after the batch
    const grown = Buffer.allocUnsafe(Math.max(scratch.length * 2, length + more + 1));
    scratch.copy(grown, 0, 0, length);
    scratch = grown;
  };
  const append = (chunk: Buffer, from: number, to: number) => {
    if (to <= from) return;
    if (separator === -1) {
      reserve(1);
      separator = length++;
    }
    reserve(to - from);
    chunk.copy(scratch, length, from, to);
    length += to - from;
  };
  /** the line being read has ended; true when the batch is full */
  const endLine = (): boolean => {
    if (separator === -1) return false; // a blank line
    if (scratch[length - 1] === RETURN) length--;
    // a line of only "\r" is blank too: drop its separator
    if (length === separator + 1) length = separator;
    else scratch[separator] = docs++ === 0 ? OPEN : COMMA;
    separator = -1;
    return docs >= limits.docs || length - docs >= limits.bytes;
  };
  const parse = (): Doc[] => {
    scratch[length++] = CLOSE;
    const docsOut = JSON.parse(scratch.toString("utf8", 0, length)) as Doc[];
    length = 0;
    docs = 0;
    if (scratch.length > usual) scratch = Buffer.allocUnsafe(usual);
    return docsOut;
  };
  for await (const read of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const chunk = read as Buffer;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      append(chunk, start, nl);
      start = nl + 1;
      if (endLine()) yield parse();
    }
    append(chunk, start, chunk.length);
  }
  endLine();
  if (docs > 0) yield parse();
}

/**
 * Runs `each` over the batches with up to `inFlight` writes running at once while the next batch
 * is read and parsed. A restore loads into emptied collections and one file's ids are unique, so
 * batches written out of order land the same; two in flight roughly halve a Mongo load's time
 * (the server works while the driver encodes the next batch). On a failed write no new batch is
 * started, the running ones settle, and the first error is thrown.
 */
export async function pipelineBatches(
  batches: AsyncIterable<Doc[]>,
  each: (batch: Doc[]) => Promise<void>,
  inFlight = 2,
): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  try {
    for await (const batch of batches) {
      if (failure) break;
      const write = each(batch).then(
        () => {
          running.delete(write);
        },
        (error: unknown) => {
          running.delete(write);
          failure ??= { error };
        },
      );
      running.add(write);
      if (running.size >= inFlight) await Promise.race(running);
      if (failure) break;
    }
  } finally {
    // no write may still be running when the caller moves on (to the next collection or cleanup)
    await Promise.all(running);
  }
  if (failure) throw (failure as { error: unknown }).error;
}
