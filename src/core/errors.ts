/**
 * Errors are values with stable codes. Every layer throws AppError; the HTTP layer maps it (one
 * mapper, src/controller/http/error-envelope.ts) to the envelope
 * `{ error: { code, message, details, requestId } }` and the CLI maps the code to an exit code.
 *
 * Two kinds of code:
 * - wire codes (`WireCodes`): what clients read. They are the catalogue of spec/40-api-rest.md §4
 *   (open: codes we add are listed here and nowhere else), each with its HTTP status and meaning.
 *   The OpenAPI document publishes this table.
 * - internal kinds (`InternalKinds`): what code inside the controller catches and branches on
 *   (a store's duplicate key, a lost fence, an illegal lifecycle move). They never reach the wire
 *   as themselves: the spec's exception mapping turns each into its wire code (illegal state ⇒ 409
 *   CONFLICT, invalid argument ⇒ 422 VALIDATION_ERROR, ...).
 */
export const WireCodes = {
  BAD_REQUEST: { status: 400, meaning: "the request is malformed (not JSON, a bad header, a missing body)" },
  UNAUTHORIZED: { status: 401, meaning: "no valid credential (token, ticket or password)" },
  FORBIDDEN: { status: 403, meaning: "the caller's role or address does not allow this" },
  PASSWORD_CHANGE_REQUIRED: {
    status: 403,
    meaning: "the account must change its password (POST /api/v1/auth/change-password) before anything else",
  },
  NOT_FOUND: { status: 404, meaning: "the resource or route does not exist" },
  INSTANCE_NOT_FOUND: { status: 404, meaning: "the instance named by the request does not exist" },
  METHOD_NOT_ALLOWED: { status: 405, meaning: "the path exists but not with this method" },
  CONFLICT: { status: 409, meaning: "the request conflicts with the current state; re-read and retry" },
  NODE_NOT_CONNECTED: { status: 409, meaning: "the instance's node has no live stream to this controller" },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    meaning: "the body exceeds the route's size cap or JSON nesting/member limits",
  },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: "the body's content type is not one this route reads" },
  VALIDATION_ERROR: { status: 422, meaning: "the body, query or path parameters fail validation" },
  RESTORE_REJECTED: { status: 422, meaning: "the backup bundle failed verification; details name the file" },
  RATE_LIMITED: { status: 429, meaning: "too many requests; retry after Retry-After seconds" },
  ACCOUNT_LOCKED: { status: 429, meaning: "too many failed logins; retry after Retry-After seconds" },
  INTERNAL_ERROR: { status: 500, meaning: "an unexpected failure; the log has the request id and stack" },
  NOT_IMPLEMENTED: { status: 501, meaning: "this controller does not implement the operation" },
  UNAVAILABLE: { status: 503, meaning: "a dependency is unavailable; retry shortly" },
  SERVICE_UNAVAILABLE: { status: 503, meaning: "a subsystem the route needs is not running" },
  MODULE_NOT_LOADED: {
    status: 503,
    meaning: "the route belongs to a module that is not installed or loaded",
  },
  STORE_UNAVAILABLE: {
    status: 503,
    meaning: "the state store is unreachable; retry after Retry-After seconds",
  },
  COORDINATION_UNAVAILABLE: {
    status: 503,
    meaning: "the coordination store (Redis/Valkey) is unreachable; retry after Retry-After seconds",
  },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type WireCode = keyof typeof WireCodes;

/** Codes thrown and caught inside the controller, each with the wire code it is answered as. */
export const InternalKinds = {
  INVALID_ARGUMENT: "VALIDATION_ERROR",
  ILLEGAL_STATE: "CONFLICT",
  DUPLICATE_KEY: "CONFLICT",
  STALE_FENCING_TOKEN: "CONFLICT",
  CONFIG_INVALID: "INTERNAL_ERROR",
} as const satisfies Record<string, WireCode>;

export type InternalKind = keyof typeof InternalKinds;
export type ErrorCode = WireCode | InternalKind;

/** Seconds a client should wait before retrying an outage answer (Retry-After on 503s). */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

/** The wire code an error code is answered as. */
export function wireCodeOf(code: ErrorCode): WireCode {
  return code in InternalKinds ? InternalKinds[code as InternalKind] : (code as WireCode);
}

export function statusOf(code: ErrorCode): number {
  return WireCodes[wireCodeOf(code)].status;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
    this.name = "AppError";
    this.code = code;
    this.status = statusOf(code);
    this.details = details;
  }
}

export function isAppError(err: unknown, code?: ErrorCode): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}

/**
 * The one translation of a store's DUPLICATE_KEY on insert into the CONFLICT (409) a caller reads:
 * `.catch(conflictOnDuplicate('group "lobby" already exists'))`. Any other failure passes through.
 */
export function conflictOnDuplicate(message: string): (err: unknown) => never {
  return (err) => {
    if (isAppError(err, "DUPLICATE_KEY")) throw new AppError("CONFLICT", message);
    throw err;
  };
}
