import type { CrashClass, ProcessExit } from "../../core/crash/index.ts";
import { classifyCrash } from "../../core/crash/index.ts";

/** Limits the controller enforces on a report (it rejects anything larger). */
export const MAX_TAIL_LINES = 500;
export const MAX_TAIL_LINE_CHARS = 8192;

/** The daemon's crash report (proto `CrashReport`) plus the node-side classification. */
export interface CrashReport {
  readonly instanceId: string;
  readonly group: string;
  readonly planHash: string;
  readonly exitCode: number | null;
  /** Terminating signal name, or null when the process exited with a code. */
  readonly signal: string | null;
  /** Last console lines, oldest first, within the controller's limits. */
  readonly logTail: readonly string[];
  readonly uptimeMs: number;
  readonly crashedAtMs: number;
  readonly classification: CrashClass;
  readonly reason: string;
  readonly signature: string;
}

export interface CrashFacts {
  readonly instanceId: string;
  readonly group: string;
  readonly planHash: string;
  readonly exit: ProcessExit;
  readonly logTail: readonly string[];
  readonly uptimeMs: number;
  readonly crashedAtMs: number;
  /** Why the daemon itself ended the process, when it did (e.g. a startup timeout). */
  readonly daemonCause?: string;
}

export function buildCrashReport(facts: CrashFacts): CrashReport {
  const logTail = facts.logTail
    .slice(-MAX_TAIL_LINES)
    .map((line) => (line.length > MAX_TAIL_LINE_CHARS ? line.slice(0, MAX_TAIL_LINE_CHARS) : line));
  const classified = classifyCrash({ ...facts.exit, logTail, instanceId: facts.instanceId });
  return {
    instanceId: facts.instanceId,
    group: facts.group,
    planHash: facts.planHash,
    exitCode: facts.exit.exitCode,
    signal: facts.exit.signal ?? null,
    logTail,
    uptimeMs: facts.uptimeMs,
    crashedAtMs: facts.crashedAtMs,
    classification: classified.class,
    reason: facts.daemonCause ? `${facts.daemonCause} (${classified.reason})` : classified.reason,
    signature: classified.signature,
  };
}
