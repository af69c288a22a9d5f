import type { ProcessExit } from "../../core/crash/index.ts";
import type { ConsoleStream } from "./instance-console.ts";
import { LineSplitter } from "./line-splitter.ts";
import type { StoppableProcess } from "./stop-sequence.ts";

export interface SpawnOptions {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly onLine: (stream: ConsoleStream, line: string) => void;
  readonly now?: () => number;
  /** How long to keep draining output after the process exited (a grandchild may hold the pipe). */
  readonly drainTimeoutMs?: number;
}

/**
 * A child process whose output is read continuously until it exits. Never pausing the read matters:
 * a server whose stdout pipe fills up blocks, and one whose reader went away dies of EPIPE on its
 * next prompt redraw. The child leads its own process group, so signals reach anything it spawned.
 */
export class SupervisedProcess implements StoppableProcess {
  readonly pid: number;
  readonly startedAtMs: number;
  /** Settles once the process exited and its output was drained. */
  readonly exited: Promise<ProcessExit>;
  private readonly child: Bun.Subprocess<"pipe", "pipe", "pipe">;
  private stdinOpen = true;

  private constructor(child: Bun.Subprocess<"pipe", "pipe", "pipe">, options: SpawnOptions) {
    this.child = child;
    this.pid = child.pid;
    this.startedAtMs = (options.now ?? Date.now)();
    const pumps = Promise.all([
      pump(child.stdout, "stdout", options.onLine),
      pump(child.stderr, "stderr", options.onLine),
    ]);
    this.exited = child.exited.then(async () => {
      this.stdinOpen = false;
      await withDeadline(pumps, options.drainTimeoutMs ?? 2000);
      const signal = child.signalCode;
      return { exitCode: child.exitCode, signal: typeof signal === "string" ? signal : null };
    });
  }

  /** Spawns the process; throws (e.g. the executable does not exist) without leaving anything behind. */
  static spawn(options: SpawnOptions): SupervisedProcess {
    const child = Bun.spawn({
      cmd: [...options.argv],
      cwd: options.cwd,
      env: { ...options.env },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      detached: true,
    });
    return new SupervisedProcess(child, options);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  writeCommand(line: string): boolean {
    if (!this.stdinOpen || !this.alive) return false;
    try {
      // A command is one console line: embedded line breaks would run as extra commands.
      this.child.stdin.write(`${line.replace(/[\r\n]+/g, " ")}\n`);
      const flushed = this.child.stdin.flush();
      if (flushed instanceof Promise) {
        flushed.catch(() => {
          this.stdinOpen = false;
        });
      }
      return true;
    } catch {
      this.stdinOpen = false;
      return false;
    }
  }

  signal(signal: "SIGTERM" | "SIGKILL"): void {
    if (!this.alive) return;
    try {
      // Negative pid: the whole process group the child leads.
      process.kill(-this.pid, signal);
    } catch {
      try {
        this.child.kill(signal);
      } catch {
        // Already gone.
      }
    }
  }
}

async function pump(
  stream: ReadableStream<Uint8Array>,
  name: ConsoleStream,
  onLine: (stream: ConsoleStream, line: string) => void,
): Promise<void> {
  const splitter = new LineSplitter();
  try {
    for await (const chunk of stream) {
      for (const line of splitter.push(chunk)) onLine(name, line);
    }
  } catch {
    // The pipe broke because the process died; whatever was read is kept.
  }
  for (const line of splitter.end()) onLine(name, line);
}

function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    work.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
