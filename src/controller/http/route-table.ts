import type { Static, TSchema } from "@sinclair/typebox";
import type { Permission } from "../../core/permissions.ts";
import type { TokenClaims } from "../auth/token-service.ts";

/**
 * Who may call a route, declared next to the route and nowhere else:
 * - "public": no credentials (the six documented public routes, probes, metrics);
 * - "authenticated": any valid operator token;
 * - "ticket": a single-use SSE ticket checked by the handler;
 * - "workload": a plugin/proxy `ptk_` token, checked by the route's `guard` (never an operator JWT);
 * - a permission string: a valid token whose role grants it.
 */
export type Access = "public" | "authenticated" | "ticket" | "workload" | Permission;

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface Caller {
  username: string;
  role: string;
  permissions: ReadonlySet<Permission>;
  claims: TokenClaims;
  /** the bootstrap admin until it sets its own password */
  mustChangePassword: boolean;
}

export interface AuditRecordInput {
  action: string;
  resourceType: string;
  resourceId: string;
  before?: unknown;
  after?: unknown;
  details?: Record<string, unknown>;
}

export interface RouteContext<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  /** set for every route that is not public or ticket */
  caller: Caller;
  requestId: string;
  ip: string;
  request: Request;
  set: { status?: number | string; headers: Record<string, string | number> };
  /** records the state change of this request in the audit log */
  audit(record: AuditRecordInput): Promise<void>;
}

type Schemaish = TSchema | undefined;
type In<S extends Schemaish, Fallback> = S extends TSchema ? Static<S> : Fallback;

export interface RouteDef<
  B extends Schemaish = Schemaish,
  Q extends Schemaish = Schemaish,
  P extends Schemaish = Schemaish,
> {
  method: Method;
  /** Elysia path syntax, e.g. `/api/v1/groups/:name` */
  path: string;
  access: Access;
  summary: string;
  tag: string;
  body?: B;
  query?: Q;
  params?: P;
  /** answers that are not JSON (SSE, Prometheus text) */
  raw?: boolean;
  /**
   * The success answer's body, documented in the OpenAPI document (the CI fuzz run checks every
   * answer against it); "none" for a route that always refuses (a feature not in this build).
   * Raw routes declare their media type instead (`rawType`).
   */
  response?: TSchema | "none";
  /** the success status(es) the answer comes with; default 200 */
  status?: number | readonly number[];
  /** media type of a raw route's answer, e.g. text/event-stream */
  rawType?: string;
  /** runs before validation, like operator authentication; throws AppError to refuse (workload routes) */
  guard?: (request: Request) => Promise<void>;
  /** the body is not parsed: the handler reads it (uploads); its size cap replaces http.maxBodyBytes */
  rawBody?: { maxBytes: number };
  handler: (
    ctx: RouteContext<In<B, undefined>, In<Q, Record<string, never>>, In<P, Record<string, never>>>,
  ) => unknown;
}

/** Every REST route of the controller, in one list that tests and the OpenAPI document walk. */
export class RouteTable {
  readonly routes: RouteDef[] = [];

  add<B extends Schemaish = undefined, Q extends Schemaish = undefined, P extends Schemaish = undefined>(
    def: RouteDef<B, Q, P>,
  ): this {
    if (this.routes.some((r) => r.method === def.method && r.path === def.path)) {
      throw new Error(`route ${def.method} ${def.path} declared twice`);
    }
    this.routes.push(def as unknown as RouteDef);
    return this;
  }
}
