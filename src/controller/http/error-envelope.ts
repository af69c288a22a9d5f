import {
  AppError,
  OUTAGE_RETRY_AFTER_SECONDS,
  type WireCode,
  WireCodes,
  wireCodeOf,
} from "../../core/errors.ts";

export interface ErrorEnvelope {
  error: { code: WireCode; message: string; details?: Record<string, unknown>; requestId: string };
}

export interface MappedError {
  status: number;
  headers: Record<string, string>;
  body: ErrorEnvelope;
}

/** What Elysia tells onError about a failure it raised itself (router, parser, validator). */
export interface FrameworkFailure {
  /** Elysia's error code: NOT_FOUND, VALIDATION, PARSE, INVALID_COOKIE_SIGNATURE, UNKNOWN, … */
  code: string | number;
  error: unknown;
  method: string;
  path: string;
}

const OUTAGE_CODES = new Set<WireCode>(["STORE_UNAVAILABLE", "COORDINATION_UNAVAILABLE", "UNAVAILABLE"]);

/**
 * Every failure becomes an AppError before it is answered: the framework's own errors (no route,
 * body not JSON, schema validation) get their catalogue code here, and anything that is not an
 * AppError is an INTERNAL_ERROR whose message never reaches the client (the log keeps it).
 */
export function toAppError(failure: FrameworkFailure): AppError {
  const { code, error } = failure;
  if (error instanceof AppError) return error;
  if (code === "NOT_FOUND")
    return new AppError("NOT_FOUND", `no route for ${failure.method} ${failure.path}`);
  if (code === "VALIDATION") return validationError(error);
  if (code === "PARSE") return new AppError("BAD_REQUEST", "the request body is not valid JSON");
  if (code === "INVALID_COOKIE_SIGNATURE")
    return new AppError("BAD_REQUEST", "a cookie's signature is invalid");
  return new AppError("INTERNAL_ERROR", "internal error", undefined, { cause: error });
}

/**
 * Elysia's validation error names the first failing field; we keep only its path and the rule's
 * message. Never the rejected value: echoing (or pretty-printing) a hostile body is how a 40 KB
 * request became seconds of CPU and gigabytes of memory.
 */
function validationError(error: unknown): AppError {
  const first = (error as { valueError?: { path?: unknown; message?: unknown } }).valueError;
  const path = typeof first?.path === "string" ? first.path.replace(/^\//, "").replaceAll("/", ".") : "";
  const rule = typeof first?.message === "string" ? first.message.slice(0, 200) : "invalid request";
  return new AppError(
    "VALIDATION_ERROR",
    path ? `${path}: ${rule}` : rule,
    path ? { field: path } : undefined,
  );
}

/** The one mapping from an AppError to the status, headers and JSON envelope on the wire. */
export function toEnvelope(err: AppError, requestId: string): MappedError {
  const code = wireCodeOf(err.code);
  const status = WireCodes[code].status;
  const headers: Record<string, string> = { "x-request-id": requestId };
  const retry = err.details?.retryAfterSeconds;
  if (typeof retry === "number") headers["retry-after"] = String(retry);
  else if (OUTAGE_CODES.has(code)) headers["retry-after"] = String(OUTAGE_RETRY_AFTER_SECONDS);
  // An internal error's message can carry internals (paths, driver text); the log has it instead.
  const message = code === "INTERNAL_ERROR" ? "internal error" : err.message;
  const details = code === "INTERNAL_ERROR" ? undefined : err.details;
  return {
    status,
    headers,
    body: { error: { code, message, ...(details ? { details } : {}), requestId } },
  };
}

/** The same envelope as a Response, for refusals made before routing (subnet, size, rate limits). */
export function errorResponse(err: AppError, requestId: string): Response {
  const { status, headers, body } = toEnvelope(err, requestId);
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
