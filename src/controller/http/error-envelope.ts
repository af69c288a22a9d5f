import { AppError } from "../../core/errors.ts";

export interface ErrorEnvelope {
  error: { code: string; message: string; details?: Record<string, unknown>; requestId?: string };
}

/** The one mapping from anything thrown in a handler to the JSON error envelope and a status. */
export function toEnvelope(
  err: unknown,
  requestId: string | undefined,
): { status: number; body: ErrorEnvelope } {
  if (err instanceof AppError) {
    return {
      status: err.status,
      body: {
        error: {
          code: err.code,
          message: err.message,
          ...(err.details ? { details: err.details } : {}),
          requestId,
        },
      },
    };
  }
  return { status: 500, body: { error: { code: "INTERNAL", message: "internal error", requestId } } };
}
