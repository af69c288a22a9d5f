import { describe, expect, test } from "bun:test";
import { FrameQueue, FrameQueueOverflowError } from "../../../src/wire/frame-queue.ts";

interface F {
  kind: "console" | "status";
  n: number;
}
const queue = (capacity: number, hardLimit?: number) =>
  new FrameQueue<F>({ capacity, hardLimit, isSheddable: (f) => f.kind === "console" });
const c = (n: number): F => ({ kind: "console", n });
const s = (n: number): F => ({ kind: "status", n });

async function drain(q: FrameQueue<F>): Promise<F[]> {
  const out: F[] = [];
  for await (const f of q) out.push(f);
  return out;
}

describe("FrameQueue", () => {
  test("delivers in push order to a single reader, waiting for frames that come later", async () => {
    const q = queue(8);
    q.push(s(1));
    const reading = drain(q);
    q.push(c(2));
    await Promise.resolve();
    q.push(s(3));
    q.close();
    expect((await reading).map((f) => f.n)).toEqual([1, 2, 3]);
    expect(q.delivered).toBe(3);
  });

  test("when full, an incoming console line is shed", () => {
    const q = queue(2);
    expect(q.push(s(1))).toBe("queued");
    expect(q.push(s(2))).toBe("queued");
    expect(q.push(c(3))).toBe("shed");
    expect(q.size).toBe(2);
    expect(q.shed).toBe(1);
  });

  test("when full, a critical frame evicts the oldest console line, never another critical frame", async () => {
    const q = queue(3);
    q.push(c(1));
    q.push(s(2));
    q.push(c(3));
    expect(q.push(s(4))).toBe("queued");
    expect(q.push(s(5))).toBe("queued");
    q.close();
    expect((await drain(q)).map((f) => f.n)).toEqual([2, 4, 5]);
    expect(q.shed).toBe(2);
  });

  test("critical frames may exceed capacity up to the hard limit, then the queue fails", async () => {
    const q = queue(2, 4);
    for (let i = 0; i < 4; i++) expect(q.push(s(i))).toBe("queued");
    expect(q.push(s(9))).toBe("overflow");
    expect(q.closed).toBe(true);
    expect(q.push(s(10))).toBe("closed");
    await expect(drain(q)).rejects.toBeInstanceOf(FrameQueueOverflowError);
  });

  test("close(error) flushes what is queued, then throws; fail(error) throws at once", async () => {
    const flushed = queue(4);
    flushed.push(s(1));
    flushed.close(new Error("refused"));
    const seen: number[] = [];
    const error = await (async () => {
      for await (const f of flushed) seen.push(f.n);
    })().catch((e: Error) => e.message);
    expect(seen).toEqual([1]);
    expect(error).toBe("refused");

    const failed = queue(4);
    failed.push(s(1));
    failed.fail(new Error("revoked"));
    await expect(drain(failed)).rejects.toThrow("revoked");
  });

  test("a waiting reader is woken by close", async () => {
    const q = queue(4);
    const reading = drain(q);
    q.close();
    expect(await reading).toEqual([]);
  });

  test("stays correct across many frames (internal compaction)", async () => {
    const q = queue(10_000);
    const reading = drain(q);
    for (let i = 0; i < 5000; i++) {
      q.push(i % 3 === 0 ? c(i) : s(i));
      if (i % 100 === 0) await Promise.resolve();
    }
    q.close();
    const out = await reading;
    expect(out).toHaveLength(5000);
    expect(out.every((f, i) => f.n === i)).toBe(true);
  });
});
