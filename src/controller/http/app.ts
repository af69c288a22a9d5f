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
import { toEnvelope } from "./error-envelope.ts";
import { type AuthDeps, checkAccess, requiresCaller, resolveCaller } from "./guards.ts";
import type { Caller, RouteDef, RouteTable } from "./route-table.ts";

export interface HttpDeps extends AuthDeps {
  log: Logger;
  config: ControllerConfig;
  coord: Coordination;
  audit: AuditLog;
  routes: RouteTable;
  /** counts and times every answer, early guard refusals included */
  metrics?: Metrics;
}

/** Probes and scrapes: never subnet-guarded or rate-limited (a load balancer must always reach them). */
const PROBE_PATHS = new Set([
  "/health",
  "/ready",
  "/metrics",
  "/api/v1/system/health",
  "/api/v1/system/ready",
]);
const LOGIN_PATH = "/api/v1/auth/login";

interface RequestState {
  requestId: string;
  ip: string;
  startedAt: number;
  caller?: Caller;
}

function envelope(
  status: number,
  code: string,
  message: string,
  requestId: string,
  headers: Record<string, string> = {},
) {
  return new Response(JSON.stringify({ error: { code, message, requestId } }), {
    status,
    headers: { "content-type": "application/json", "x-request-id": requestId, ...headers },
  });
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
    .map((r) => ({
      method: r.method,
      pattern: new RegExp(`^${r.path.replace(/:[A-Za-z]+/g, "[^/]+")}$`),
      maxBytes: r.rawBody!.maxBytes,
    }));

  const rateLimited = async (
    bucket: string,
    key: string,
    limit: number,
    requestId: string,
  ): Promise<Response | undefined> => {
    try {
      const hit = await coord.hitRateLimit(bucket, key, limit, 60_000);
      if (hit.allowed) return undefined;
      const retry = String(Math.max(1, Math.ceil(hit.retryAfterMs / 1000)));
      return envelope(429, "RATE_LIMITED", "too many requests; slow down", requestId, {
        "retry-after": retry,
      });
    } catch (err) {
      if (limits.failOpenOnRedisError) return undefined;
      log.warn(
        { err: (err as Error).message },
        "rate limiter unavailable; refusing (failOpenOnRedisError=false)",
      );
      return envelope(503, "UNAVAILABLE", "rate limiting is unavailable; try again shortly", requestId);
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
      if (PROBE_PATHS.has(path)) return;
      if (!allowed.contains(ip))
        return envelope(403, "FORBIDDEN", "your address is not in network.allowedSubnets", requestId);
      const length = Number(request.headers.get("content-length") ?? 0);
      const limit =
        uploadLimits.find((u) => u.method === request.method && u.pattern.test(path))?.maxBytes ??
        config.http.maxBodyBytes;
      if (length > limit) {
        return envelope(413, "PAYLOAD_TOO_LARGE", `request bodies are limited to ${limit} bytes`, requestId);
      }
      const perIp = await rateLimited("ip", ip, limits.perIpPerMinute, requestId);
      if (perIp) return perIp;
      if (path === LOGIN_PATH && request.method === "POST")
        return rateLimited("login", ip, limits.loginPerIpPerMinute, requestId);
    })
    .use(
      cors({
        origin: config.http.cors.allowedOrigins,
        methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
        allowedHeaders: ["authorization", "content-type", "last-event-id", "x-request-id"],
        exposeHeaders: ["x-request-id", "retry-after"],
      }),
    )
    .use(
      openapi({
        path: "/api/v1/docs",
        specPath: "/api/v1/openapi.json",
        documentation: {
          info: { title: "PrexorCloud controller API", version: VERSION },
          components: {
            securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
          },
        },
      }),
    )
    .onError(({ code, error, set, request }) => {
      const requestId = state.get(request)?.requestId ?? crypto.randomUUID();
      set.headers["x-request-id"] = requestId;
      if (code === "NOT_FOUND" && !(error instanceof AppError)) {
        set.status = 404;
        return {
          error: {
            code: "NOT_FOUND",
            message: `no route for ${request.method} ${new URL(request.url).pathname}`,
            requestId,
          },
        };
      }
      if (code === "VALIDATION") {
        set.status = 422;
        const first = (error as { valueError?: { path?: string; message?: string } }).valueError;
        const where = first?.path ? `${first.path.replace(/^\//, "").replaceAll("/", ".")}: ` : "";
        return {
          error: {
            code: "INVALID_ARGUMENT",
            message: `${where}${first?.message ?? "invalid request"}`,
            requestId,
          },
        };
      }
      if (code === "PARSE" || code === "INVALID_COOKIE_SIGNATURE") {
        set.status = 400;
        return { error: { code: "BAD_REQUEST", message: "the request body is not valid JSON", requestId } };
      }
      if (error instanceof AppError && (error.code === "RATE_LIMITED" || error.code === "ACCOUNT_LOCKED")) {
        const retry = error.details?.retryAfterSeconds;
        if (typeof retry === "number") set.headers["retry-after"] = String(retry);
      }
      const { status, body } = toEnvelope(error, requestId);
      if (status >= 500) log.error({ err: error, requestId }, "request failed");
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
  app.route(
    route.method,
    route.path,
    async (ctx) => {
      const s = state.get(ctx.request)!;
      return route.handler({
        body: ctx.body as never,
        query: ctx.query as never,
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
      ...(route.rawBody ? { parse: "none" } : {}),
      query: route.query,
      params: route.params,
      detail: {
        summary: route.summary,
        tags: [route.tag],
        ...(requiresCaller(route.access) ? { security: [{ bearer: [] }] } : {}),
        description: `Access: ${route.access}`,
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
          .catch(() => null);
        if (hit && !hit.allowed) {
          throw new AppError("RATE_LIMITED", "too many requests; slow down", {
            retryAfterSeconds: Math.max(1, Math.ceil(hit.retryAfterMs / 1000)),
          });
        }
        checkAccess(route.access, caller);
      },
    },
  );
}
