import { escapeControl } from "./output/escape.ts";

/**
 * prexorctl's exit codes are part of its interface: scripts branch on them, so they are fixed and
 * derived from the HTTP status (or the API error code when there is no status).
 */
export const EXIT = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  AUTH: 3,
  NOT_FOUND: 4,
  CONFLICT: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI itself detected, with the message to print and the exit code to use. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.ERROR,
    /** a second line telling the operator what to do next */
    readonly hint?: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** The controller answered with the error envelope `{error:{code,message,details,requestId}}`. */
export class ApiError extends Error {
  /**
   * The router's own 404 (the route does not exist on this controller) as opposed to a handler's
   * 404 for a missing resource: both are NOT_FOUND, only the message tells them apart.
   */
  readonly noRoute: boolean;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly method: string,
    readonly path: string,
    readonly requestId?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
    this.noRoute = status === 404 && message.startsWith("no route for ");
  }
}

/** Nothing answered at the controller's address (refused, DNS, TLS, timeout). */
export class UnreachableError extends Error {
  constructor(
    readonly server: string,
    reason: string,
  ) {
    super(`cannot reach the controller at ${server}: ${reason}`);
    this.name = "UnreachableError";
  }
}

// Wire codes of the controller's catalogue (src/core/errors.ts WireCodes, spec/40-api-rest.md §4).
const AUTH_CODES = new Set([
  "UNAUTHORIZED",
  "FORBIDDEN",
  "ACCOUNT_LOCKED",
  "INVALID_TOKEN",
  "PASSWORD_CHANGE_REQUIRED",
]);
const NOT_FOUND_CODES = new Set(["NOT_FOUND", "TOKEN_NOT_FOUND", "VERSION_NOT_FOUND", "INSTANCE_NOT_FOUND"]);
const CONFLICT_CODES = new Set(["CONFLICT", "NODE_NOT_CONNECTED"]);

export function exitCodeForApi(err: ApiError): ExitCode {
  if (err.noRoute) return EXIT.ERROR;
  if (err.status === 401 || err.status === 403 || AUTH_CODES.has(err.code)) return EXIT.AUTH;
  if (err.status === 404 || NOT_FOUND_CODES.has(err.code)) return EXIT.NOT_FOUND;
  if (err.status === 409 || CONFLICT_CODES.has(err.code)) return EXIT.CONFLICT;
  return EXIT.ERROR;
}

export interface Explained {
  exitCode: ExitCode;
  lines: string[];
}

/** Turns anything a command threw into the lines to print on stderr and the exit code. */
export function explain(err: unknown): Explained {
  const explained = explainRaw(err);
  return { exitCode: explained.exitCode, lines: explained.lines.map(escapeControl) };
}

function explainRaw(err: unknown): Explained {
  if (err instanceof CliError) {
    return { exitCode: err.exitCode, lines: [`error: ${err.message}`, ...(err.hint ? [err.hint] : [])] };
  }
  if (err instanceof UnreachableError) return { exitCode: EXIT.ERROR, lines: [`error: ${err.message}`] };
  if (err instanceof ApiError) {
    const exitCode = exitCodeForApi(err);
    if (err.noRoute) {
      return {
        exitCode,
        lines: [
          `error: this controller has no route for ${err.method} ${err.path}; ` +
            "it is older than this prexorctl or does not have this feature yet",
        ],
      };
    }
    const lines = [`error: ${err.code}: ${err.message}${err.requestId ? ` (request ${err.requestId})` : ""}`];
    const details = detailLines(err.details);
    lines.push(...details);
    if (err.status === 401) lines.push("hint: log in again with `prexorctl login` (or set PREXOR_TOKEN)");
    if (err.code === "PASSWORD_CHANGE_REQUIRED") {
      lines.push("hint: set a new password first with `prexorctl user change-password` (then log in again)");
    } else if (err.status === 403) lines.push("hint: your role lacks the permission this needs");
    return { exitCode, lines };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { exitCode: EXIT.ERROR, lines: [`error: ${message}`] };
}

function detailLines(details: Record<string, unknown> | undefined): string[] {
  if (!details) return [];
  return Object.entries(details).map(([k, v]) => `  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
}
