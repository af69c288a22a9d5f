import { writeSync } from "node:fs";

/** How long to wait for a full pipe to drain before writing again. */
const FULL_PIPE_WAIT_MS = 2;
const waitCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `text` to a file descriptor synchronously, byte for byte, before returning. For
 * output that must arrive whole (a completion script of 200+ KiB) when main() exits right after:
 * an unflushed `process.stdout.write` was cut short, and `Bun.write(Bun.stdout, …)` into a pipe
 * repeated a 64 KiB chunk now and then (Bun 1.4.5), so release archives differed between builds.
 * A pipe that is full (EAGAIN on a non-blocking descriptor) is waited on, then written again from
 * where the last write stopped.
 */
export function writeFully(fd: number, text: string): void {
  const bytes = Buffer.from(text, "utf8");
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
      Atomics.wait(waitCell, 0, 0, FULL_PIPE_WAIT_MS);
    }
  }
}
