import { closeSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";

const FLUSH_BYTES = 1 << 20;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A 1 MiB buffer an operation reuses for all its files (operations yield, so never share one). */
export function copyBuffer(): Buffer {
  return Buffer.allocUnsafe(FLUSH_BYTES);
}

/**
 * Appends to a new 0600 file while hashing what it writes, buffering up to 1 MiB so memory stays
 * flat however large the file grows.
 */
export class HashingWriter {
  private readonly fd: number;
  private readonly hash = new Bun.CryptoHasher("sha256");
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  bytes = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, "wx", 0o600);
  }

  write(chunk: string | Uint8Array): void {
    const buf =
      typeof chunk === "string"
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.hash.update(buf);
    this.bytes += buf.byteLength;
    this.pending.push(buf);
    this.pendingBytes += buf.byteLength;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  /** Appends a whole file through one reused 1 MiB buffer: no allocation per chunk. */
  async copyFrom(path: string, buf: Buffer, onChunk?: (bytes: number) => void): Promise<void> {
    this.flush();
    let chunks = 0;
    const src = openSync(path, "r");
    try {
      for (;;) {
        const n = readSync(src, buf, 0, buf.length, null);
        if (n === 0) break;
        const view = buf.subarray(0, n);
        this.hash.update(view);
        let off = 0;
        while (off < n) off += writeSync(this.fd, view, off);
        this.bytes += n;
        onChunk?.(n);
        // let the controller answer requests between every 16 MiB of a large file
        if (++chunks % 16 === 0) await yieldToLoop();
      }
    } finally {
      closeSync(src);
    }
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const data =
      this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    let off = 0;
    while (off < data.byteLength) off += writeSync(this.fd, data, off);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /**
   * Flushes, fsyncs and closes; returns the hex SHA-256 of everything written. `sync: false`
   * leaves the fsync to the caller (`syncFiles`), which can then wait for many files at once.
   */
  finish(options: { sync?: boolean } = {}): { bytes: number; sha256: string } {
    try {
      this.flush();
      if (options.sync !== false) fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
    return { bytes: this.bytes, sha256: this.hash.digest("hex") };
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

/** SHA-256 and size of a file, read through one reused buffer (no allocation per chunk). */
export async function hashFile(
  path: string,
  buf: Buffer = copyBuffer(),
): Promise<{ bytes: number; sha256: string }> {
  const hash = new Bun.CryptoHasher("sha256");
  let bytes = 0;
  const fd = openSync(path, "r");
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      bytes += n;
      if (bytes % (16 * FLUSH_BYTES) === 0) await yieldToLoop();
    }
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: hash.digest("hex") };
}

/**
 * Fsyncs written files a few at a time off the event loop: one fsync after each file serialises
 * the disk's write-back file by file, while several in flight let it flush them together.
 */
export async function syncFiles(paths: readonly string[], concurrency = 4): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const handle = await open(paths[next++]!, "r");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  };
  // every worker settles before this returns, so no fsync is still running when the caller moves on
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(concurrency, paths.length) }, worker),
  );
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}
