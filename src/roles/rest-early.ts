import { join, resolve } from "node:path";
import type { ControllerConfig } from "../config/controller-config.ts";
import { resolveControllerId } from "../controller/controller-id.ts";
import { type EarlyListener, listenEarly, yieldToRequests } from "../controller/http/early-listener.ts";
import { earlyBodyLimit } from "../controller/http/upload-caps.ts";
import { systemClock } from "../core/clock.ts";

/**
 * Binds the controller's REST port before the controller's stack is loaded (the roles import
 * boot.ts only after this): liveness answers from the first few milliseconds, readiness and the
 * API say 503 until startController hands the port to the full surface.
 */
export function bindRestEarly(root: string, config: ControllerConfig): EarlyListener {
  return listenEarly({
    host: config.http.host,
    port: config.http.port,
    maxRequestBodySize: earlyBodyLimit(config.http.maxBodyBytes),
    controllerId: resolveControllerId(
      config.uuid,
      join(resolve(root, config.runtime.dataDir), "controller-id"),
    ),
    profile: config.runtime.profile,
    startedAt: systemClock.now(),
    now: () => systemClock.now(),
  });
}

/**
 * The controller's stack, loaded a few packages at a time with a turn for the listener between
 * them: evaluating it in one go held liveness probes for tens of milliseconds. The order is the
 * heaviest first; each is loaded (and cached) here only so the next step is short.
 */
const STACK: Array<() => Promise<unknown>> = [
  () => import("pino"),
  () => import("pino-pretty"),
  () => import("../log/logger.ts"),
  () => import("../x509/x509.ts"),
  () => import("@grpc/grpc-js"),
  () => import("nice-grpc"),
  () => import("protobufjs/minimal.js"),
  () => import("prom-client"),
  () => import("@sinclair/typebox/compiler"),
  () => import("elysia"),
  () => import("../wire/index.ts"),
  () => import("../controller/http/route-wiring.ts"),
  () => import("../controller/grpc/grpc-server.ts"),
  () => import("../controller/instances/wiring.ts"),
  () => import("../controller/scheduler/loop/index.ts"),
];

export async function loadControllerStack(): Promise<typeof import("../controller/boot.ts")> {
  for (const load of STACK) {
    await yieldToRequests();
    await load();
  }
  await yieldToRequests();
  return import("../controller/boot.ts");
}
