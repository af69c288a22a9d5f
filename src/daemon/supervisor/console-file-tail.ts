import { closeSync, fstatSync, ftruncateSync, openSync, readSync } from "node:fs";
import { LineSplitter } from "./line-splitter.ts";

const READ_CHUNK = 64 * 1024;
/**
 * Once everything was read and the file is past this size, it is truncated in place. The workload
 * writes with O_APPEND, so its next line lands at the new start; what it wrote between our last
 * read and the truncate (microseconds) is the only loss, and the ring buffer keeps the history.
 */
const ROTATE_AT_BYTES = 8 * 1024 * 1024;

export interface ConsoleFileTailOptions {
  readonly path: string;
  readonly onLine: (line: string) => void;
  /** Start this many bytes before the end (history after a re-adoption); 0 reads from the start. */
  readonly historyBytes?: number;
  readonly pollMs?: number;
}

/**
 * Follows a workload's console file. The workload's monitor writes its output there (not to a
 * pipe), so the output survives a daemon restart and a new daemon picks it up from where it is.
 * Polling rather than inotify: it works on every filesystem and costs one fstat per interval.
 */
export class ConsoleFileTail {
  private readonly fd: number;
  private readonly splitter = new LineSplitter();
  private readonly buffer = Buffer.allocUnsafe(READ_CHUNK);
  private offset: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private skipPartialLine: boolean;

  constructor(private readonly options: ConsoleFileTailOptions) {
    this.fd = openSync(options.path, "r+");
    const size = fstatSync(this.fd).size;
    const history = options.historyBytes ?? 0;
    this.offset = history > 0 ? Math.max(0, size - history) : 0;
    // Starting mid-file: the first line read is probably a fragment.
    this.skipPartialLine = this.offset > 0;
    this.timer = setInterval(() => this.poll(), options.pollMs ?? 100);
    this.timer.unref?.();
    this.poll();
  }

  /** Reads whatever was appended since the last poll. */
  poll(): void {
    if (this.closed) return;
    try {
      const size = fstatSync(this.fd).size;
      if (size < this.offset) this.offset = 0; // truncated by someone else
      while (this.offset < size) {
        const read = readSync(this.fd, this.buffer, 0, READ_CHUNK, this.offset);
        if (read <= 0) break;
        this.offset += read;
        this.emit(this.splitter.push(this.buffer.subarray(0, read)));
      }
      if (this.offset >= ROTATE_AT_BYTES && this.offset === fstatSync(this.fd).size) {
        ftruncateSync(this.fd, 0);
        this.offset = 0;
      }
    } catch {
      // The file went away with its instance; close() follows.
    }
  }

  /** Reads the rest, flushes an unterminated last line and stops following. */
  close(): void {
    if (this.closed) return;
    this.poll();
    this.emit(this.splitter.end());
    this.closed = true;
    clearInterval(this.timer);
    try {
      closeSync(this.fd);
    } catch {
      // Already closed.
    }
  }

  private emit(lines: string[]): void {
    for (const line of lines) {
      if (this.skipPartialLine) {
        this.skipPartialLine = false;
        continue;
      }
      this.options.onLine(line);
    }
  }
}
