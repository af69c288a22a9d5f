import {
  type CrashClass,
  classifyExit,
  fallbackReason,
  type LogCrashClass,
  type ProcessExit,
} from "./crash-class.ts";
import { crashSignature, EMPTY_TAIL_SIGNATURE } from "./crash-signature.ts";
import { physicalLines, stripLogPrefix } from "./log-line.ts";

export interface CrashEvidence extends ProcessExit {
  /** Last console/log lines before the exit, oldest first. */
  readonly logTail: readonly string[];
  /** Replaced in the signature so the same crash on two instances signs the same. */
  readonly instanceId?: string;
}

export interface CrashClassification {
  readonly class: CrashClass;
  /** One human-readable line: the decisive log line, else a phrase for how the process ended. */
  readonly reason: string;
  readonly signature: string;
}

interface LogRule {
  readonly class: LogCrashClass;
  /** In order of preference for the reason line; any of them classifies. */
  readonly patterns: readonly RegExp[];
  /** Whether the stack frame after the line identifies the crash (not for resource exhaustion, hangs). */
  readonly useFrame: boolean;
}

/**
 * Tail rules in precedence order: the first rule with a match anywhere in the tail decides, so a root
 * cause (the heap ran out) beats its symptoms (the watchdog noticed the server hung). The first four are
 * the reference design's classes in its order; the rest extend it for failures operators hit at startup.
 */
const LOG_RULES: readonly LogRule[] = [
  {
    class: "OOM",
    patterns: [/java\.lang\.OutOfMemoryError/, /There is insufficient memory/],
    useFrame: false,
  },
  { class: "STACK_OVERFLOW", patterns: [/java\.lang\.StackOverflowError/], useFrame: true },
  {
    class: "CLASS_NOT_FOUND",
    patterns: [/java\.lang\.(?:ClassNotFoundException|NoClassDefFoundError)/],
    useFrame: true,
  },
  {
    class: "PORT_BIND_FAILURE",
    patterns: [/java\.net\.BindException|Address already in use/i, /Failed to bind to port/i],
    useFrame: false,
  },
  {
    class: "UNSUPPORTED_JAVA",
    patterns: [
      /java\.lang\.UnsupportedClassVersionError/,
      /compiled by a more recent version of the Java Runtime/i,
      /Unsupported Java detected/i,
    ],
    useFrame: false,
  },
  {
    class: "JAR_INVALID",
    patterns: [/Invalid or corrupt jarfile/i, /Unable to access jarfile/i, /no main manifest attribute/i],
    useFrame: false,
  },
  {
    class: "WATCHDOG",
    patterns: [/The server has stopped responding/i, /Considering it to be crashed/i],
    useFrame: false,
  },
  {
    class: "PLUGIN_ERROR",
    patterns: [
      /org\.bukkit\.plugin\.(?:InvalidPluginException|InvalidDescriptionException|UnknownDependencyException)/,
      /Error occurred while enabling/i,
      /Could not load '[^']*' in folder/i,
      /Unable to load plugin/i,
    ],
    useFrame: true,
  },
];

// A fully qualified throwable class name, e.g. `java.lang.IllegalStateException` or `a.b.Errors$Io`.
const THROWABLE = /(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)\b/;
const MAX_REASON_LENGTH = 200;
const FRAME_LOOKAHEAD = 6;

/**
 * Classifies a crash from the log tail first, then from the exit, and signs it. The reason line is the
 * first line of the deciding rule, or for an exit-classified crash the last throwable in the tail (the
 * innermost `Caused by`), or a phrase for how the process ended.
 */
export function classifyCrash(evidence: CrashEvidence): CrashClassification {
  const lines = physicalLines(evidence.logTail).map(stripLogPrefix);
  const hasTail = lines.some((line) => line.trim() !== "");

  for (const rule of LOG_RULES) {
    const index = firstMatch(lines, rule.patterns);
    if (index === undefined) continue;
    const line = lines[index]!;
    return {
      class: rule.class,
      reason: truncate(line.trim()),
      signature: crashSignature({
        kind: rule.class,
        summary: signatureText(line),
        frame: rule.useFrame ? frameAfter(lines, index) : "",
        instanceId: evidence.instanceId,
      }),
    };
  }

  const crashClass = classifyExit(evidence);
  const index = lastThrowableLine(lines);
  if (index === undefined) {
    const reason = fallbackReason(crashClass, evidence);
    return {
      class: crashClass,
      reason,
      signature: hasTail
        ? crashSignature({ kind: crashClass, summary: reason, frame: "" })
        : EMPTY_TAIL_SIGNATURE,
    };
  }
  const line = lines[index]!;
  return {
    class: crashClass,
    reason: truncate(line.trim()),
    signature: crashSignature({
      kind: crashClass,
      summary: signatureText(line),
      frame: frameAfter(lines, index),
      instanceId: evidence.instanceId,
    }),
  };
}

function firstMatch(lines: readonly string[], patterns: readonly RegExp[]): number | undefined {
  for (const pattern of patterns) {
    const index = lines.findIndex((line) => pattern.test(line));
    if (index >= 0) return index;
  }
  return undefined;
}

function isFrame(line: string): boolean {
  return /^\s*at\s/.test(line);
}

function lastThrowableLine(lines: readonly string[]): number | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!isFrame(line) && THROWABLE.test(line)) return i;
  }
  return undefined;
}

/** The first `at …` frame printed under the line at `index`, if it follows closely. */
function frameAfter(lines: readonly string[], index: number): string {
  for (let i = index + 1; i < Math.min(lines.length, index + 1 + FRAME_LOOKAHEAD); i++) {
    const line = lines[i]!;
    if (isFrame(line)) return line.trim();
    if (THROWABLE.test(line)) break;
  }
  return "";
}

// From the throwable class on: who printed it (`Exception in thread "Server thread"`, `Caused by:`) is
// incidental and differs between occurrences of one crash.
function signatureText(line: string): string {
  const match = THROWABLE.exec(line);
  return match ? line.slice(match.index) : line;
}

function truncate(text: string): string {
  return text.length <= MAX_REASON_LENGTH ? text : `${text.slice(0, MAX_REASON_LENGTH - 1)}…`;
}
