import { AppError } from "../../core/errors.ts";
import type { WorkloadIdentity, WorkloadTokens } from "./workload-tokens.ts";

const BEARER = /^Bearer (\S{10,4096})$/;
const SEQUENCE = /^[1-9][0-9]{0,15}$/;
export const SEQUENCE_HEADER = "x-prexor-sequence";
const REPLAYED = "Invalid, expired, or replayed plugin token";

/**
 * The workload-token check for `/api/plugin/*` and `/api/proxy/*`, run as a route guard (before body
 * validation). Operator JWTs are a valid credential of the wrong kind here: 403, not 401.
 */
export class WorkloadAuth {
  private readonly identities = new WeakMap<Request, WorkloadIdentity>();

  constructor(readonly tokens: WorkloadTokens) {}

  /** Guard for routes that need a live token; `sequenced` also enforces X-Prexor-Sequence. */
  guard(options: { sequenced: boolean }): (request: Request) => Promise<void> {
    return async (request) => {
      const token = bearerOf(request);
      const identity = await this.tokens.authenticate(token);
      if (!identity) throw new AppError("UNAUTHORIZED", REPLAYED);
      if (options.sequenced) await this.checkSequence(request, identity.instanceId);
      this.identities.set(request, identity);
    };
  }

  /** Guard for refresh: only the token's shape here, its validity (with grace) in the handler. */
  readonly refreshGuard = async (request: Request): Promise<void> => {
    bearerOf(request);
    sequenceOf(request);
  };

  async refresh(request: Request): Promise<{ token: string; expiresAt: string }> {
    const refreshed = await this.tokens.refresh(bearerOf(request));
    if (!refreshed) throw new AppError("UNAUTHORIZED", REPLAYED);
    await this.checkSequence(request, refreshed.instanceId);
    return { token: refreshed.token, expiresAt: new Date(refreshed.expiresAt).toISOString() };
  }

  identity(request: Request): WorkloadIdentity {
    const identity = this.identities.get(request);
    if (!identity) throw new AppError("UNAUTHORIZED", REPLAYED);
    return identity;
  }

  private async checkSequence(request: Request, instanceId: string): Promise<void> {
    if (!(await this.tokens.acceptSequence(instanceId, sequenceOf(request)))) {
      throw new AppError("UNAUTHORIZED", REPLAYED);
    }
  }
}

function bearerOf(request: Request): string {
  const match = BEARER.exec(request.headers.get("authorization") ?? "");
  if (!match) throw new AppError("UNAUTHORIZED", "a workload token is required");
  if (!match[1]!.startsWith("ptk_")) {
    throw new AppError("FORBIDDEN", "operator tokens are not accepted on workload routes");
  }
  return match[1]!;
}

function sequenceOf(request: Request): number {
  const raw = request.headers.get(SEQUENCE_HEADER) ?? "";
  if (!SEQUENCE.test(raw)) {
    throw new AppError("BAD_REQUEST", `${SEQUENCE_HEADER} must be a positive integer`);
  }
  return Number(raw);
}
