import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import { constants as osConstants } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { type Clock, systemClock } from "../../core/clock.ts";
import type { ProcessExit } from "../../core/crash/index.ts";
import { ConsoleFileTail } from "./console-file-tail.ts";
import { identify, isSameProcess, type ProcIdentity, signalPid } from "./proc-identity.ts";
import type { StoppableProcess } from "./stop-sequence.ts";

/**
 * The monitor: a POSIX shell that sits between the daemon and the workload, like conmon or a
 * containerd shim, but ~1 MiB instead of another runtime. It holds the workload's stdin (a FIFO it
 * keeps open read-write, so the workload never sees EOF when the daemon goes away), sends its output
 * to a file instead of a pipe (nothing gets EPIPE when the daemon dies), waits for it and records its
 * exit status. The daemon can therefore die or be upgraded while the server keeps serving players,
 * and a new daemon re-attaches to the same files. The inner `sh -c` writes its pid before exec'ing
 * the workload, so the pid file names the workload itself.
 *
 * Signals go to the workload's pid, never to the monitor: the monitor must live to record the exit.
 */
const MONITOR_SCRIPT = [
  "umask 077",
  'd="$1"; shift',
  'exec 2>>"$d/monitor.log"',
  'rm -f "$d/stdin" "$d/exit" "$d/pid"',
  'mkfifo "$d/stdin" || exit 125',
  'exec 3<>"$d/stdin"',
  `sh -c 'echo $$ >"$0/pid.tmp" && mv "$0/pid.tmp" "$0/pid" && exec "$@"' "$d" "$@" <&3 3<&- >>"$d/console.log" 2>&1`,
  "s=$?",
  'echo "$s" >"$d/exit.tmp" && mv "$d/exit.tmp" "$d/exit"',
].join("\n");

export const MONITOR_FILES = {
  console: "console.log",
  stdin: "stdin",
  pid: "pid",
  exit: "exit",
  record: "record.json",
} as const;

/** What proves a running workload is the one this node started. */
export interface MonitorIdentity {
  readonly monitor: ProcIdentity;
  readonly workload: ProcIdentity;
}

export interface MonitoredSpawnOptions {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** This workload's monitor directory (created fresh; 0700). */
  readonly dir: string;
  readonly now?: () => number;
  /** paces the wait for the monitor's pid file (system clock when absent) */
  readonly clock?: Clock;
  /** How long to wait for the monitor to start the workload. */
  readonly spawnTimeoutMs?: number;
}

export interface MonitoredAdoptOptions {
  readonly dir: string;
  readonly identity: MonitorIdentity;
  readonly startedAtMs: number;
  /** Console bytes replayed into the ring buffer from before the restart. */
  readonly historyBytes?: number;
  readonly livenessPollMs?: number;
}

/**
 * A workload under its monitor, either spawned by this daemon or re-adopted after a restart. Both
 * look the same to the rest of the supervisor: pid, liveness, console lines, stdin, signals, exit.
 */
export class MonitoredProcess implements StoppableProcess {
  readonly pid: number;
  readonly startedAtMs: number;
  readonly identity: MonitorIdentity;
  readonly exited: Promise<ProcessExit>;
  private tail: ConsoleFileTail | undefined;
  private stdinFd: number | undefined;
  private done = false;

  private constructor(
    readonly dir: string,
    identity: MonitorIdentity,
    startedAtMs: number,
    private readonly historyBytes: number,
    monitorGone: Promise<ProcessExit | undefined>,
  ) {
    this.identity = identity;
    this.pid = identity.workload.pid;
    this.startedAtMs = startedAtMs;
    this.stdinFd = openStdin(join(dir, MONITOR_FILES.stdin));
    this.exited = monitorGone.then((fallback) => this.finish(fallback));
  }

  /** Starts the workload under a new monitor; throws without leaving anything behind. */
  static async spawn(options: MonitoredSpawnOptions): Promise<MonitoredProcess> {
    const executable = options.argv[0];
    if (!executable || !isExecutable(executable, options.cwd, options.env.PATH ?? process.env.PATH ?? "")) {
      throw new Error(`executable not found: ${executable ?? "(empty command line)"}`);
    }
    rmSync(options.dir, { recursive: true, force: true });
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    closeSync(openSync(join(options.dir, MONITOR_FILES.console), "a", 0o600));
    const monitor = Bun.spawn({
      cmd: ["/bin/sh", "-c", MONITOR_SCRIPT, "prexor-monitor", options.dir, ...options.argv],
      cwd: options.cwd,
      env: { ...options.env },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
      // Its own session: a signal to the daemon's process group (Ctrl-C, a unit stop) passes it by.
      detached: true,
    });
    // A workload that exits at once (`true`) is gone before we look: it did start, and its exit is
    // what the monitor records. Start time 0 never matches a live process.
    const monitorIdentity = identify(monitor.pid) ?? { pid: monitor.pid, startTicks: 0 };
    const workloadPid = await waitForPidFile(
      options.dir,
      monitor,
      options.spawnTimeoutMs ?? 5000,
      options.clock ?? systemClock,
    );
    const workload =
      workloadPid === undefined ? undefined : (identify(workloadPid) ?? { pid: workloadPid, startTicks: 0 });
    if (!workload) {
      monitor.kill("SIGKILL");
      const reason = readText(join(options.dir, "monitor.log")).trim() || "the workload did not start";
      rmSync(options.dir, { recursive: true, force: true });
      throw new Error(reason);
    }
    const gone = monitor.exited.then(() => wrapperExit(monitor));
    return new MonitoredProcess(
      options.dir,
      { monitor: monitorIdentity, workload },
      (options.now ?? systemClock.now)(),
      0,
      gone,
    );
  }

  /**
   * Re-attaches to a workload a previous daemon started. Undefined unless both the monitor and the
   * workload are alive and are provably the processes recorded (pid and kernel start time).
   */
  static adopt(options: MonitoredAdoptOptions): MonitoredProcess | undefined {
    if (!isSameProcess(options.identity.monitor) || !isSameProcess(options.identity.workload))
      return undefined;
    // Not our child any more: nothing tells us when it ends, so we look.
    const gone = new Promise<undefined>((resolveGone) => {
      const timer = setInterval(() => {
        if (isSameProcess(options.identity.monitor)) return;
        clearInterval(timer);
        resolveGone(undefined);
      }, options.livenessPollMs ?? 250);
    });
    return new MonitoredProcess(
      options.dir,
      options.identity,
      options.startedAtMs,
      options.historyBytes ?? 64 * 1024,
      gone,
    );
  }

  /**
   * Starts reading the console into `onLine` (once; the caller registers its readiness watchers
   * first, so no line printed before that is missed). Until the process exits, and once more then.
   */
  follow(onLine: (line: string) => void): void {
    if (this.tail || this.done) return;
    this.tail = new ConsoleFileTail({
      path: join(this.dir, MONITOR_FILES.console),
      onLine,
      historyBytes: this.historyBytes,
    });
  }

  get alive(): boolean {
    return !this.done && isSameProcess(this.identity.workload);
  }

  writeCommand(line: string): boolean {
    if (this.stdinFd === undefined || !this.alive) return false;
    try {
      // A command is one console line: embedded line breaks would run as extra commands.
      writeSync(this.stdinFd, `${line.replace(/[\r\n]+/g, " ")}\n`);
      return true;
    } catch {
      // EAGAIN: the workload has not read 64 KiB of earlier input; EPIPE: its monitor is gone.
      return false;
    }
  }

  signal(signal: "SIGTERM" | "SIGKILL"): void {
    if (!this.alive) return;
    signalPid(this.identity.workload.pid, signal);
  }

  /** Stops following the workload without touching it (the daemon is going away; it keeps running). */
  detach(): void {
    this.tail?.close();
    this.closeStdin();
  }

  private finish(fallback: ProcessExit | undefined): ProcessExit {
    this.done = true;
    this.tail?.close();
    this.closeStdin();
    // Whatever the workload left behind in its process group (the monitor leads it) goes too, so
    // nothing unmanaged keeps a port.
    signalPid(-this.identity.monitor.pid, "SIGKILL");
    return readExit(this.dir) ?? fallback ?? { exitCode: null, signal: null };
  }

  private closeStdin(): void {
    if (this.stdinFd === undefined) return;
    try {
      closeSync(this.stdinFd);
    } catch {
      // Already closed.
    }
    this.stdinFd = undefined;
  }
}

/** The status the monitor recorded: `$?` of the workload, 128+N for a signal N. */
export function readExit(dir: string): ProcessExit | undefined {
  const text = readText(join(dir, MONITOR_FILES.exit)).trim();
  if (!/^\d+$/.test(text)) return undefined;
  const status = Number(text);
  if (status > 128 && status < 128 + 65) {
    const name = Object.entries(osConstants.signals).find(([, n]) => n === status - 128)?.[0];
    if (name) return { exitCode: null, signal: name };
  }
  return { exitCode: status, signal: null };
}

function wrapperExit(monitor: Bun.Subprocess): ProcessExit | undefined {
  // The monitor itself was killed before it could record anything.
  const signal = monitor.signalCode;
  return typeof signal === "string" ? { exitCode: null, signal } : undefined;
}

async function waitForPidFile(
  dir: string,
  monitor: Bun.Subprocess,
  timeoutMs: number,
  clock: Clock,
): Promise<number | undefined> {
  const file = join(dir, MONITOR_FILES.pid);
  const deadline = clock.now() + timeoutMs;
  while (clock.now() < deadline) {
    const text = readText(file).trim();
    if (/^\d+$/.test(text)) return Number(text);
    if (monitor.exitCode !== null || monitor.signalCode !== null) return undefined;
    await clock.sleep(5);
  }
  return undefined;
}

function openStdin(path: string): number | undefined {
  try {
    // The monitor holds the FIFO open for reading, so a non-blocking open for writing succeeds.
    return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}

function isExecutable(command: string, cwd: string, path: string): boolean {
  if (command.includes("/")) {
    const full = isAbsolute(command) ? command : resolve(cwd, command);
    try {
      accessSync(full, constants.X_OK);
      return true;
    } catch {
      // not accessible as executable: the caller reports the command as missing
      return false;
    }
  }
  return Bun.which(command, { PATH: path, cwd }) !== null;
}

function readText(path: string): string {
  try {
    return existsSync(path) ? readFileSync(path, "utf8") : "";
  } catch {
    // unreadable: an empty text, the caller treats it as no output
    return "";
  }
}
