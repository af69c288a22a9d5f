/**
 * Errors are values with stable codes. Every layer throws AppError; the HTTP layer maps it to the
 * envelope `{ error: { code, message, details, requestId } }` and the CLI maps it to an exit code.
 */
export const ErrorCodes = {
  INVALID_ARGUMENT: 422,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ILLEGAL_STATE: 409,
  ALREADY_EXISTS: 409,
  DUPLICATE_KEY: 409,
  STALE_FENCING_TOKEN: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  ACCOUNT_LOCKED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  /** a subsystem the route needs is not running (e.g. the event system for SSE tickets) */
  SERVICE_UNAVAILABLE: 503,
  /** the route belongs to a module that is not installed or not loaded */
  MODULE_NOT_LOADED: 503,
  STORE_UNAVAILABLE: 503,
  COORDINATION_UNAVAILABLE: 503,
  CONFIG_INVALID: 500,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
    this.name = "AppError";
    this.code = code;
    this.status = ErrorCodes[code];
    this.details = details;
  }
}

export function isAppError(err: unknown, code?: ErrorCode): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}
