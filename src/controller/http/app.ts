import { Elysia } from "elysia";
import type { Logger } from "../../log/logger.ts";
import { toEnvelope } from "./error-envelope.ts";
import { type SystemDeps, systemRoutes } from "./system-routes.ts";

export interface HttpDeps extends SystemDeps {
  log: Logger;
  maxBodyBytes: number;
}

/** The REST surface. Every answer carries a request id; every failure is the JSON envelope. */
export function createHttpApp(deps: HttpDeps) {
  // Assigned in onRequest so that even unrouted requests and early failures carry one.
  const requestIds = new WeakMap<Request, string>();
  return new Elysia()
    .onRequest(({ request, set }) => {
      const incoming = request.headers.get("x-request-id");
      const requestId = incoming && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : crypto.randomUUID();
      requestIds.set(request, requestId);
      set.headers["x-request-id"] = requestId;
    })
    .derive(({ request }) => ({ requestId: requestIds.get(request) ?? crypto.randomUUID() }))
    .onError(({ code, error, set, request }) => {
      const requestId = requestIds.get(request);
      if (code === "NOT_FOUND") {
        set.status = 404;
        return {
          error: {
            code: "NOT_FOUND",
            message: `no route for ${request.method} ${new URL(request.url).pathname}`,
            requestId,
          },
        };
      }
      if (code === "VALIDATION" || code === "PARSE") {
        set.status = code === "PARSE" ? 400 : 422;
        return {
          error: {
            code: code === "PARSE" ? "BAD_REQUEST" : "INVALID_ARGUMENT",
            message: (error as Error).message.split("\n")[0],
            requestId,
          },
        };
      }
      const { status, body } = toEnvelope(error, requestId);
      if (status >= 500) deps.log.error({ err: error, requestId }, "request failed");
      set.status = status;
      return body;
    })
    .use(systemRoutes(deps));
}
