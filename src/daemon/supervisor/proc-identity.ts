import { readFileSync } from "node:fs";

/**
 * A process named by pid and the kernel's start time (clock ticks since boot, /proc/<pid>/stat
 * field 22). Pids are reused; the pair is not, so a daemon that re-adopts a workload after a restart
 * can prove the process it finds is the one it started.
 */
export interface ProcIdentity {
  readonly pid: number;
  readonly startTicks: number;
}

/** The start time of a live (non-zombie) process, or undefined when it does not exist. */
export function processStartTicks(pid: number): number | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    // no such process (or not readable): as documented
    return undefined;
  }
  // The command name is in parentheses and may itself contain spaces or parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

export function identify(pid: number): ProcIdentity | undefined {
  const startTicks = processStartTicks(pid);
  return startTicks === undefined ? undefined : { pid, startTicks };
}

/** Whether the very process `identity` names is still alive. */
export function isSameProcess(identity: ProcIdentity | undefined): boolean {
  return identity !== undefined && processStartTicks(identity.pid) === identity.startTicks;
}

/** Sends a signal; false when the process is already gone (or not ours to signal). */
export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    // as documented: gone already, or not ours
    return false;
  }
}
