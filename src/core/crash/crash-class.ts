import type { InstanceState } from "../lifecycle/instance-state.ts";

/**
 * Crash classes. The first group is read from the console/log tail; the second from how the process
 * ended, used when the tail names no known cause.
 */
export const LOG_CRASH_CLASSES = [
  "OOM",
  "STACK_OVERFLOW",
  "CLASS_NOT_FOUND",
  "PORT_BIND_FAILURE",
  "UNSUPPORTED_JAVA",
  "JAR_INVALID",
  "WATCHDOG",
  "PLUGIN_ERROR",
] as const;

export const EXIT_CRASH_CLASSES = [
  "CLEAN",
  "GENERAL_ERROR",
  "SIGINT",
  "SIGABRT",
  "SIGKILL",
  "SIGSEGV",
  "SIGTERM",
  "UNKNOWN",
] as const;

export type LogCrashClass = (typeof LOG_CRASH_CLASSES)[number];
export type ExitCrashClass = (typeof EXIT_CRASH_CLASSES)[number];
export type CrashClass = LogCrashClass | ExitCrashClass;

/** How the process ended: an exit code, or a signal (then the code is null, as Bun reports it). */
export interface ProcessExit {
  readonly exitCode: number | null;
  readonly signal?: string | null;
}

const CLASS_BY_EXIT_CODE: Readonly<Record<number, ExitCrashClass>> = {
  0: "CLEAN",
  1: "GENERAL_ERROR",
  130: "SIGINT",
  134: "SIGABRT",
  137: "SIGKILL",
  139: "SIGSEGV",
  143: "SIGTERM",
};

const CLASS_BY_SIGNAL: Readonly<Record<string, ExitCrashClass>> = {
  SIGINT: "SIGINT",
  SIGABRT: "SIGABRT",
  SIGKILL: "SIGKILL",
  SIGSEGV: "SIGSEGV",
  SIGTERM: "SIGTERM",
};

/**
 * Exit codes 128+n are how a shell (or a JVM's own handler) reports death by signal n; a direct child
 * killed by a signal has no code and a signal name instead. Both spellings map to the same class.
 */
export function classifyExit(exit: ProcessExit): ExitCrashClass {
  if (exit.signal) return CLASS_BY_SIGNAL[exit.signal.toUpperCase()] ?? "UNKNOWN";
  if (exit.exitCode === null) return "UNKNOWN";
  return CLASS_BY_EXIT_CODE[exit.exitCode] ?? "UNKNOWN";
}

/** The reason shown when the tail offers nothing better. */
export function fallbackReason(crashClass: CrashClass, exit: ProcessExit): string {
  switch (crashClass) {
    case "SIGKILL":
      return "Killed (SIGKILL)";
    case "SIGTERM":
      return "Terminated (SIGTERM)";
    case "SIGINT":
      return "Interrupted (SIGINT)";
    case "SIGSEGV":
      return "Segmentation fault";
    case "SIGABRT":
      return "Aborted";
    case "CLEAN":
      return "Clean exit";
    default:
      if (exit.signal) return `Killed by signal ${exit.signal}`;
      return exit.exitCode === null ? "Exited without a status" : `Exit code ${exit.exitCode}`;
  }
}

/**
 * The daemon's crash rule: an exit is a crash unless a stop was under way (controller-requested stops,
 * graceful or forced, are always clean) or the process exited 0 of its own accord. A signal death has no
 * exit code and is therefore a crash.
 */
export function isCrashExit(stateAtExit: InstanceState, exit: ProcessExit): boolean {
  return stateAtExit !== "STOPPING" && exit.exitCode !== 0;
}
