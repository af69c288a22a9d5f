import type { Server } from "bun";
import { AppError } from "../../core/errors.ts";
import { VERSION } from "../../version.ts";
import { errorResponse } from "./error-envelope.ts";

/**
 * The REST port bound before anything else starts, so liveness answers while the store opens, the
 * secrets unseal and gRPC binds. Until the full surface takes over (`serve`), liveness is 200,
 * readiness 503 naming what is still starting, and every other route a 503 UNAVAILABLE envelope
 * with Retry-After: never a refused connection, a hang or a 500. It imports only light modules:
 * the roles bind it before loading the controller's stack.
 */
export interface EarlyListenerOptions {
  host: string;
  port: number;
  /** Bun's server-wide body cap; fixed at bind time (see serverBodyLimit) */
  maxRequestBodySize: number;
  controllerId: string;
  profile: string;
  startedAt: number;
  now: () => number;
}

export interface EarlyListener {
  readonly server: Server<undefined>;
  readonly port: number;
  readonly maxRequestBodySize: number;
  /**
   * Names what readiness reports as starting, then lets the requests that queued during the step
   * before be answered: start-up is synchronous work between awaits, and a microtask await does not
   * give the listener a turn.
   */
  starting(what: string): Promise<void>;
  /** hand every request to the full REST surface from now on */
  serve(fetch: (request: Request) => Response | Promise<Response>): void;
  stop(): Promise<void>;
}

const LIVENESS = new Set(["/health", "/api/v1/system/health"]);
const READINESS = new Set(["/ready", "/api/v1/system/ready"]);

export function listenEarly(options: EarlyListenerOptions): EarlyListener {
  let phase = "store";
  const early = (request: Request): Response => {
    const path = new URL(request.url).pathname;
    const requestId = request.headers.get("x-request-id")?.slice(0, 128) || crypto.randomUUID();
    if (request.method === "GET" && LIVENESS.has(path)) {
      return Response.json(
        {
          status: "UP",
          controllerId: options.controllerId,
          profile: options.profile,
          version: VERSION,
          uptimeSeconds: Math.max(0, Math.floor((options.now() - options.startedAt) / 1000)),
        },
        { headers: { "x-request-id": requestId } },
      );
    }
    if (request.method === "GET" && READINESS.has(path)) {
      // Readiness answers its own body on 503, never the envelope (the route's documented shape).
      return Response.json(
        {
          status: "DOWN",
          checks: { store: "DOWN", coordination: "DOWN", restore: "UP", startup: "DOWN" },
          reason: `starting: ${phase}`,
          store: "starting",
          coordinationKind: "starting",
        },
        { status: 503, headers: { "x-request-id": requestId } },
      );
    }
    return errorResponse(
      new AppError("UNAVAILABLE", `the controller is starting (${phase}); retry shortly`),
      requestId,
    );
  };
  let handler: (request: Request) => Response | Promise<Response> = early;
  const server = Bun.serve({
    hostname: options.host,
    port: options.port,
    development: false,
    // As the framework's own listen did: several controllers may share a host in tests.
    reusePort: true,
    idleTimeout: 30,
    maxRequestBodySize: options.maxRequestBodySize,
    fetch: (request) => handler(request),
  });
  return {
    server,
    port: server.port ?? options.port,
    maxRequestBodySize: options.maxRequestBodySize,
    starting(what) {
      phase = what;
      return yieldToRequests();
    },
    serve(fetch) {
      handler = fetch;
    },
    async stop() {
      await server.stop(true);
    },
  };
}

/** One turn of the event loop, so connections waiting on the listener are served. */
export function yieldToRequests(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
