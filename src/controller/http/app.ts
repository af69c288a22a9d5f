import { cors } from "@elysiajs/cors";
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import type { ControllerConfig } from "../../config/controller-config.ts";
import type { Coordination } from "../../coord/port.ts";
import { AppError } from "../../core/errors.ts";
import type { Logger } from "../../log/logger.ts";
import { VERSION } from "../../version.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import { requestMetrics } from "../metrics/http-metrics.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { CidrSet, clientAddress } from "./client-address.ts";
import {
  documentRequestBodies,
  ERROR_ENVELOPE_SCHEMA,
  errorResponsesFor,
  successResponsesFor,
} from "./error-docs.ts";
import { errorResponse, toAppError, toEnvelope } from "./error-envelope.ts";
import { type AuthDeps, checkAccess, checkPasswordChange, requiresCaller, resolveCaller } from "./guards.ts";
import { DEFAULT_JSON_LIMITS, readJsonBody } from "./json-body.ts";
import { LocalRateLimiter } from "./local-rate-limiter.ts";
import { queryParametersDoc, queryReader } from "./query-params.ts";
import type { Caller, RouteDef, RouteTable } from "./route-table.ts";

export interface HttpDeps extends AuthDeps {
  log: Logger;
  config: ControllerConfig;
  coord: Coordination;
  audit: AuditLog;
  routes: RouteTable;
  /** counts and times every answer, early guard refusals included */
  metrics?: Metrics;
  /** why the store must not be served (a restore running or interrupted), else null */
  restoreReason?: () => string | null;
}

/**
 * What still answers while a restore runs or after one died half-way: probes, logging in, the
 * backup and restore routes (to finish it) and the API description.
 */
const SERVED_WHILE_RESTORING = /^\/api\/v1\/(auth\/|backups(\/|$)|restore$|system\/|openapi\.json$|docs)/;

/** Probes and scrapes: never subnet-guarded or rate-limited (a load balancer must always reach them). */
const PROBE_PATHS = new Set([
  "/health",
  "/ready",
  "/metrics",
  "/api/v1/system/health",
  "/api/v1/system/ready",
]);
const LOGIN_PATH = "/api/v1/auth/login";
const OPENAPI_PATH = "/api/v1/openapi.json";

interface RequestState {
  requestId: string;
  ip: string;
  startedAt: number;
  caller?: Caller;
}

/** Methods a route can have, plus the CORS preflight; anything else (TRACE, CONNECT, …) is a 405. */
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** A route path as a regular expression over the request path (`:name` matches one segment). */
export function pathPattern(path: string): RegExp {
  const escaped = path
    .split("/")
    .map((seg) =>
      seg.startsWith(":") ? "[^/]+" : seg === "*" ? ".*" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("/");
  return new RegExp(`^${escaped}$`);
}

/**
 * The server-wide body limit handed to Bun.serve: above every route's own cap, so each route's
 * streaming counter answers first with the JSON envelope (Bun's own limit answers a bare 413).
 */
export function serverBodyLimit(routes: RouteTable, config: ControllerConfig): number {
  const caps = routes.routes.map((r) => r.rawBody?.maxBytes ?? 0);
  return Math.max(config.http.maxBodyBytes, ...caps) + 1024 * 1024;
}

/**
 * The REST surface, in the order requests meet it: request id → CORS → subnet guard → body size
 * → per-IP rate limit (stricter for login) → authentication → per-user rate limit → permission →
 * validation → handler. Every failure is the JSON error envelope with a stable code.
 */
export function createHttpApp(deps: HttpDeps) {
  const { config, coord, log } = deps;
  const state = new WeakMap<Request, RequestState>();
  const allowed = new CidrSet(config.network.allowedSubnets);
  const trusted = new CidrSet(config.http.trustedProxyCidrs);
  const limits = config.security.rateLimiting;
  // Upload routes take bigger bodies than the JSON API; they are found by method + path pattern.
  const uploadLimits = deps.routes.routes
    .filter((r) => r.rawBody)
    .map((r) => ({ method: r.method, pattern: pathPattern(r.path), maxBytes: r.rawBody!.maxBytes }));
  // Which methods each path answers, for telling a 405 from a 404.
  const routePatterns = deps.routes.routes.map((r) => ({ method: r.method, pattern: pathPattern(r.path) }));
  const methodsFor = (path: string): string[] => [
    ...new Set(routePatterns.filter((r) => r.pattern.test(path)).map((r) => r.method)),
  ];

  // While the coordination store is down, reads are limited by this controller alone rather than
  // refused: they need only the durable store. Mutations still fail closed (see below).
  const localLimits = new LocalRateLimiter();
  const rateLimited = async (
    bucket: string,
    key: string,
    limit: number,
    requestId: string,
    method: string,
  ): Promise<Response | undefined> => {
    try {
      let hit: { allowed: boolean; retryAfterMs: number };
      try {
        hit = await coord.hitRateLimit(bucket, key, limit, 60_000);
      } catch (err) {
        if (method !== "GET" && method !== "HEAD") throw err;
        hit = localLimits.hit(`${bucket}:${key}`, limit, 60_000);
      }
      if (hit.allowed) return undefined;
      const retryAfterSeconds = Math.max(1, Math.ceil(hit.retryAfterMs / 1000));
      return errorResponse(
        new AppError("RATE_LIMITED", "too many requests; slow down", { retryAfterSeconds }),
        requestId,
      );
    } catch (err) {
      if (limits.failOpenOnRedisError) return undefined;
      log.warn({ err }, "rate limiter unavailable; refusing (failOpenOnRedisError=false)");
      return errorResponse(
        new AppError("COORDINATION_UNAVAILABLE", "rate limiting is unavailable; try again shortly"),
        requestId,
      );
    }
  };

  // normalize: false makes unknown body fields an error instead of silently dropping a typo.
  const app = new Elysia({ normalize: false })
    .use(requestMetrics(deps.metrics))
    // One access line per request, carrying its request id; debug unless something went wrong.
    .onAfterResponse(({ request, set }) => {
      const s = state.get(request);
      if (!s) return;
      const status = typeof set.status === "number" ? set.status : 200;
      const line = {
        requestId: s.requestId,
        method: request.method,
        path: new URL(request.url).pathname,
        status,
        ms: Math.round((performance.now() - s.startedAt) * 10) / 10,
        ip: s.ip,
        user: s.caller?.username,
      };
      if (status >= 500) log.warn(line, "request failed");
      else log.debug(line, "request");
    })
    .onRequest(async ({ request, server, set }) => {
      const incoming = request.headers.get("x-request-id");
      const requestId = incoming && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : crypto.randomUUID();
      const peer = server?.requestIP(request)?.address ?? "unknown";
      const ip = clientAddress(peer, request.headers.get("x-forwarded-for"), trusted);
      state.set(request, { requestId, ip, startedAt: performance.now() });
      set.headers["x-request-id"] = requestId;
      const path = new URL(request.url).pathname;
      if (!KNOWN_METHODS.has(request.method)) {
        return errorResponse(
          new AppError("METHOD_NOT_ALLOWED", `method ${request.method} is not supported`),
          requestId,
        );
      }
      if (PROBE_PATHS.has(path)) return;
      const restoring = deps.restoreReason?.() ?? null;
      if (restoring !== null && !SERVED_WHILE_RESTORING.test(path)) {
        return errorResponse(new AppError("UNAVAILABLE", restoring, { restore: true }), requestId);
      }
      if (!allowed.contains(ip)) {
        return errorResponse(
          new AppError("FORBIDDEN", "your address is not in network.allowedSubnets"),
          requestId,
        );
      }
      // A declared length over the cap is refused before a byte is read; a chunked body is
      // counted while it streams (readJsonBody / readBodyCapped) and refused at the same cap.
      const length = Number(request.headers.get("content-length") ?? 0);
      const limit =
        uploadLimits.find((u) => u.method === request.method && u.pattern.test(path))?.maxBytes ??
        config.http.maxBodyBytes;
      if (length > limit) {
        return errorResponse(
          new AppError("PAYLOAD_TOO_LARGE", `request bodies on this route are limited to ${limit} bytes`, {
            maxBytes: limit,
          }),
          requestId,
        );
      }
      const perIp = await rateLimited("ip", ip, limits.perIpPerMinute, requestId, request.method);
      if (perIp) return perIp;
      if (path === LOGIN_PATH && request.method === "POST")
        return rateLimited("login", ip, limits.loginPerIpPerMinute, requestId, request.method);
    })
    .use(
      cors({
        origin: config.http.cors.allowedOrigins,
        methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
        allowedHeaders: ["authorization", "content-type", "last-event-id", "x-request-id"],
        exposeHeaders: ["x-request-id", "retry-after"],
      }),
    )
    // The generated document lacks what Elysia cannot see (our own body parser hides the request
    // bodies); documentRequestBodies adds them, once, to the cached document.
    .onAfterHandle(({ request, response }) => {
      if (new URL(request.url).pathname === OPENAPI_PATH) documentRequestBodies(response, deps.routes);
    })
    .use(
      openapi({
        path: "/api/v1/docs",
        specPath: OPENAPI_PATH,
        documentation: {
          info: { title: "PrexorCloud controller API", version: VERSION },
          components: {
            securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
            schemas: { ErrorEnvelope: ERROR_ENVELOPE_SCHEMA as never },
          },
        },
      }),
    )
    .onError(({ code, error, set, request }) => {
      const requestId = state.get(request)?.requestId ?? crypto.randomUUID();
      const path = new URL(request.url).pathname;
      // A body parser's AppError reaches us wrapped in Elysia's ParseError.
      const thrown =
        code === "PARSE" && (error as Error).cause instanceof AppError ? (error as Error).cause : error;
      let appError = toAppError({ code, error: thrown, method: request.method, path });
      if (code === "NOT_FOUND" && !(thrown instanceof AppError)) {
        const allow = methodsFor(path);
        if (allow.length > 0) {
          appError = new AppError("METHOD_NOT_ALLOWED", `${path} does not answer ${request.method}`, {
            allow,
          });
          set.headers.allow = allow.join(", ");
        }
      }
      const { status, headers, body } = toEnvelope(appError, requestId);
      // An outage answers every request 503 until it ends: one warn line per request (below) and
      // the dependency watch's down/up lines say enough; a stack per request would flood the log.
      const outage = appError.code === "STORE_UNAVAILABLE" || appError.code === "COORDINATION_UNAVAILABLE";
      if (status >= 500 && !outage) {
        // The stack of what was really thrown, not the generic answer the client gets.
        log.error(
          { err: appError.cause ?? appError, requestId, method: request.method, path },
          "request failed",
        );
      }
      Object.assign(set.headers, headers);
      set.status = status;
      return body;
    });

  for (const route of deps.routes.routes) mountRoute(app as unknown as Mountable, route, deps, state);
  return app;
}

/** The one Elysia method we need, typed loosely: routes are registered from data, not literals. */
interface Mountable {
  route(
    method: string,
    path: string,
    handler: (ctx: HandlerContext) => unknown,
    hook: Record<string, unknown>,
  ): unknown;
}

interface HandlerContext {
  request: Request;
  body: unknown;
  query: unknown;
  params: unknown;
  set: unknown;
}

function mountRoute(
  app: Mountable,
  route: RouteDef,
  deps: HttpDeps,
  state: WeakMap<Request, RequestState>,
): void {
  const limits = deps.config.security.rateLimiting;
  const jsonLimits = { maxBytes: deps.config.http.maxBodyBytes, ...DEFAULT_JSON_LIMITS };
  const readQuery = route.query ? queryReader(route.query) : undefined;
  app.route(
    route.method,
    route.path,
    async (ctx) => {
      const s = state.get(ctx.request)!;
      return route.handler({
        body: ctx.body as never,
        query: (readQuery ? readQuery(ctx.request.url) : ctx.query) as never,
        params: ctx.params as never,
        caller: s.caller as Caller,
        requestId: s.requestId,
        ip: s.ip,
        request: ctx.request,
        set: ctx.set as never,
        audit: (record) =>
          deps.audit
            .record({ ...record, actor: s.caller?.username ?? "system", ip: s.ip, requestId: s.requestId })
            .catch((err) => deps.log.error({ err, action: record.action }, "audit record failed")),
      });
    },
    {
      body: route.body,
      // Raw routes read their own body (capped); every other route's body goes through the one
      // JSON reader: capped while streaming, shape-bounded, then parsed, before any auth work.
      parse: route.rawBody
        ? "none"
        : ({ request }: { request: Request }) => readJsonBody(request, jsonLimits),
      // not given to Elysia: queryReader checks it (see there); documented by hand below
      params: route.params,
      detail: {
        summary: route.summary,
        tags: [route.tag],
        ...(requiresCaller(route.access) ? { security: [{ bearer: [] }] } : {}),
        description: `Access: ${route.access}`,
        // A route's own success statuses win (readiness answers its body with 503 too).
        responses: { ...errorResponsesFor(route), ...successResponsesFor(route) },
        ...(route.query ? { parameters: queryParametersDoc(route.query) } : {}),
      },
      // transform runs before validation, so an anonymous or forbidden caller learns nothing
      // about what a valid body would look like.
      transform: async ({ request }: { request: Request }) => {
        if (route.guard) await route.guard(request);
        if (!requiresCaller(route.access)) return;
        const s = state.get(request)!;
        const caller = await resolveCaller(request, deps);
        s.caller = caller;
        const hit = await deps.coord
          .hitRateLimit("user", caller.username, limits.perUserPerMinute, 60_000)
          // rate limiter unreachable: the per-user limit is skipped, as the per-IP limit above decided
          .catch(() => null);
        if (hit && !hit.allowed) {
          throw new AppError("RATE_LIMITED", "too many requests; slow down", {
            retryAfterSeconds: Math.max(1, Math.ceil(hit.retryAfterMs / 1000)),
          });
        }
        checkPasswordChange(route.method, route.path, caller);
        checkAccess(route.access, caller);
      },
    },
  );
}
