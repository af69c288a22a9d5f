import { Elysia } from "elysia";
import type { Metrics } from "./metrics.ts";

type Handler = (request: Request, ...rest: unknown[]) => Response | Promise<Response>;

/**
 * Counts and times every HTTP answer. Elysia's afterResponse hook never sees requests that an
 * onRequest guard answers early (subnet 403, body 413, rate-limit 429/503), and those are the
 * ones operators alert on, so this wraps the whole request handler instead (`wrap`, Elysia's
 * higher-order handler hook). tests/integration/metrics pins the early answers being counted,
 * so an Elysia upgrade that changes this fails loudly.
 *
 * Duration is to the response head: for an SSE stream that is the time to `connected`.
 */
export function requestMetrics(metrics: Metrics | undefined) {
  // Unnamed on purpose: Elysia deduplicates named plugins, and every controller needs its own.
  const plugin = new Elysia();
  if (!metrics?.enabled) return plugin;
  return plugin.wrap(((fn: Handler) =>
    async (request: Request, ...rest: unknown[]): Promise<Response> => {
      const started = performance.now();
      let status: number | undefined;
      try {
        const response = await fn(request, ...rest);
        status = response instanceof Response ? response.status : undefined;
        return response;
      } catch (err) {
        status = 500;
        throw err;
      } finally {
        metrics.httpRequest(request.method, status, (performance.now() - started) / 1000);
      }
    }) as unknown as Parameters<typeof plugin.wrap>[0]);
}
