import { createReadStream } from "node:fs";
import type { Doc } from "../../store/port.ts";

export interface BatchLimits {
  /** documents per batch */
  docs: number;
  /** NDJSON bytes per batch: keeps one insert well inside the driver's socket bound */
  bytes: number;
}

export const DEFAULT_BATCH: BatchLimits = { docs: 2500, bytes: 512 << 10 };

/**
 * Streams one NDJSON file in batches; memory holds one batch and one read chunk. Each batch is
 * parsed with a single `JSON.parse` of the lines joined as an array: one call per batch, not one
 * per line, which is most of the parse cost for small documents.
 */
export async function* ndjsonBatches(
  path: string,
  limits: BatchLimits = DEFAULT_BATCH,
): AsyncIterable<Doc[]> {
  const decoder = new TextDecoder();
  let carry = "";
  let lines: string[] = [];
  let bytes = 0;
  const parse = (): Doc[] => {
    const docs = JSON.parse(`[${lines.join(",")}]`) as Doc[];
    lines = [];
    bytes = 0;
    return docs;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const text = carry + decoder.decode(chunk as Buffer, { stream: true });
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl === -1) break;
      const line = text.slice(start, nl);
      start = nl + 1;
      if (line === "" || line === "\r") continue;
      lines.push(line);
      bytes += line.length;
      if (lines.length >= limits.docs || bytes >= limits.bytes) yield parse();
    }
    carry = text.slice(start);
  }
  carry += decoder.decode();
  if (carry.trim() !== "") lines.push(carry);
  if (lines.length > 0) yield parse();
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
