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
 * Runs `each` over the batches with reading and parsing of the next batch overlapped with the
 * write of the current one (one write in flight: the store sees batches in file order).
 */
export async function pipelineBatches(
  batches: AsyncIterable<Doc[]>,
  each: (batch: Doc[]) => Promise<void>,
): Promise<void> {
  const it = batches[Symbol.asyncIterator]();
  let next = it.next();
  try {
    for (;;) {
      const r = await next;
      if (r.done) return;
      next = it.next();
      // an early exit below leaves this read unobserved; its error, if any, is the same file's
      next.catch(() => undefined);
      await each(r.value);
    }
  } finally {
    await it.return?.();
  }
}
