import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ControllerConfig } from "../config/controller-config.ts";
import { resolveControllerId } from "../controller/controller-id.ts";
import { type EarlyListener, listenEarly, yieldToRequests } from "../controller/http/early-listener.ts";
import { earlyBodyLimit } from "../controller/http/upload-caps.ts";
import { systemClock } from "../core/clock.ts";

/** What binding the REST port early reads of controller.yml, and nothing else. */
export interface ListenSettings {
  host: string;
  port: number;
  maxBodyBytes: number;
  uuid: string;
  dataDir: string;
  profile: string;
}

export function listenSettingsOf(config: ControllerConfig): ListenSettings {
  return {
    host: config.http.host,
    port: config.http.port,
    maxBodyBytes: config.http.maxBodyBytes,
    uuid: config.uuid,
    dataDir: config.runtime.dataDir,
    profile: config.runtime.profile,
  };
}

/**
 * controller-schema.ts's defaults for the listener's keys, restated so that binding needs neither
 * YAML nor TypeBox: loading and checking the whole schema costs ~10 ms, and before the port is bound
 * nothing answers. A unit test holds these to the schema.
 */
export const LISTEN_DEFAULTS: Readonly<ListenSettings> = Object.freeze({
  host: "0.0.0.0",
  port: 8080,
  maxBodyBytes: 1048576,
  uuid: "",
  dataDir: "data",
  profile: "development",
});

const LISTEN_KEYS = new Set(["uuid", "runtime", "http"]);

/**
 * The listener's settings when nothing can have changed them from the defaults: no controller.yml at
 * `file` and no PREXOR_ variable under `uuid`, `runtime` or `http` (any spelling the loader accepts).
 * Otherwise undefined, and the role loads the whole config before binding. Either way the whole config
 * is loaded and checked before anything but liveness answers, so a bad value still stops start-up
 * with its key; `settledConfig` then holds the loaded config to what the port was bound with.
 */
export function untouchedListenDefaults(
  file: string,
  env: Record<string, string | undefined> = process.env,
): ListenSettings | undefined {
  if (existsSync(file)) return undefined;
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith("PREXOR_")) continue;
    const first = name.slice("PREXOR_".length).split("__")[0]!.toLowerCase().replaceAll("_", "");
    if (LISTEN_KEYS.has(first)) return undefined;
  }
  return { ...LISTEN_DEFAULTS };
}

/** Throws when the loaded config would have bound the port differently (the defaults above drifted). */
function settledConfig(bound: ListenSettings, config: ControllerConfig): ControllerConfig {
  const loaded = listenSettingsOf(config);
  for (const key of Object.keys(bound) as Array<keyof ListenSettings>) {
    if (loaded[key] !== bound[key]) {
      throw new Error(
        `the REST port was bound with ${key}=${bound[key]} but the config says ${loaded[key]} (LISTEN_DEFAULTS in roles/rest-early.ts is stale)`,
      );
    }
  }
  return config;
}

/**
 * Binds the controller's REST port before the controller's stack is loaded (the roles import
 * boot.ts only after this): liveness answers from the first few milliseconds, readiness and the
 * API say 503 until startController hands the port to the full surface.
 */
function bindRestEarly(root: string, settings: ListenSettings): EarlyListener {
  return listenEarly({
    host: settings.host,
    port: settings.port,
    maxRequestBodySize: earlyBodyLimit(settings.maxBodyBytes),
    controllerId: resolveControllerId(settings.uuid, join(resolve(root, settings.dataDir), "controller-id")),
    profile: settings.profile,
    startedAt: systemClock.now(),
    now: () => systemClock.now(),
  });
}

/**
 * Loads and checks controller.yml (see config/controller-config.ts) after the port is bound: its
 * modules (YAML, TypeBox and the schema) a few at a time with a turn for the listener between them,
 * then the load itself.
 */
async function loadConfigInTurns(
  load: (module: ConfigModule) => ControllerConfig,
): Promise<ControllerConfig> {
  await yieldToRequests();
  await import("yaml");
  await yieldToRequests();
  await import("@sinclair/typebox/value");
  await yieldToRequests();
  const module = await import("../config/controller-config.ts");
  await yieldToRequests();
  const config = load(module);
  await yieldToRequests();
  return config;
}

type ConfigModule = typeof import("../config/controller-config.ts");

/**
 * The REST port bound as early as the config allows, then the whole config loaded and checked.
 * With `untouched` (see untouchedListenDefaults) the port is bound from it and the config loaded
 * after, in turns; without, the config comes first and the port is bound from it. A config that
 * fails its check throws (naming its keys) with the port closed again.
 */
export async function openRest(
  root: string,
  untouched: ListenSettings | undefined,
  load: (module: ConfigModule) => ControllerConfig,
): Promise<{ listener: EarlyListener; config: ControllerConfig }> {
  const first = untouched ? undefined : load(await import("../config/controller-config.ts"));
  const settings = first ? listenSettingsOf(first) : untouched;
  if (!settings) throw new Error("unreachable: neither the defaults nor a loaded config");
  const listener = bindRestEarly(root, settings);
  try {
    return { listener, config: settledConfig(settings, first ?? (await loadConfigInTurns(load))) };
  } catch (err) {
    await listener.stop();
    throw err;
  }
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
