import { type Api, createApi } from "./client/api.ts";
import { HttpClient } from "./client/http.ts";
import { type CtlConfig, configPath, loadConfig } from "./config-store.ts";
import { CliError, EXIT } from "./errors.ts";
import { parseDuration } from "./parse.ts";

export const DEFAULT_SERVER = "http://127.0.0.1:8080";
export const DEFAULT_TIMEOUT = "30s";

type Env = Record<string, string | undefined>;

export interface TargetFlags {
  context?: string;
  server?: string;
  requestTimeout?: string;
}

export interface Target {
  server: string;
  token: string | undefined;
  contextName: string | undefined;
  serverFrom: "flag" | "env" | "context" | "default";
  tokenFrom: "env" | "context" | "none";
}

/** Empty variables count as unset: `PREXOR_TOKEN= prexorctl …` must mean "no token". */
export function env(vars: Env, name: string): string | undefined {
  const value = vars[name]?.trim();
  return value ? value : undefined;
}

export function normalizeServer(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.includes("://") ? raw : `http://${raw}`);
  } catch {
    throw new CliError(`"${raw}" is not a controller URL (expected e.g. http://10.0.0.5:8080)`, EXIT.USAGE);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new CliError(`the controller URL must be http:// or https:// (got "${raw}")`, EXIT.USAGE);
  return url.toString().replace(/\/+$/, "");
}

/**
 * Where to send requests and with which token. Each field resolves on its own: flag, then
 * environment, then the chosen context (--context, then PREXOR_CONTEXT, then currentContext).
 */
export function resolveTarget(flags: TargetFlags, vars: Env, config: CtlConfig): Target {
  const explicitContext = flags.context?.trim() || env(vars, "PREXOR_CONTEXT");
  if (explicitContext && !config.contexts[explicitContext]) {
    throw new CliError(
      `context "${explicitContext}" does not exist`,
      EXIT.NOT_FOUND,
      "hint: `prexorctl context list` shows the contexts; `prexorctl login --context NAME` creates one",
    );
  }
  const contextName = explicitContext ?? config.currentContext;
  const context = contextName ? config.contexts[contextName] : undefined;
  const flagServer = flags.server?.trim();
  const envServer = env(vars, "PREXOR_CONTROLLER");
  const server = normalizeServer(flagServer || envServer || context?.server || DEFAULT_SERVER);
  const serverFrom = flagServer ? "flag" : envServer ? "env" : context ? "context" : "default";
  const envToken = env(vars, "PREXOR_TOKEN");
  // A context's token belongs to the context's controller: when --server or PREXOR_CONTROLLER
  // points elsewhere, sending it there would hand a credential to another host.
  const contextToken =
    context?.token && normalizeServer(context.server) === server ? context.token : undefined;
  const token = envToken ?? contextToken;
  return {
    server,
    token,
    contextName: context ? contextName : undefined,
    serverFrom,
    tokenFrom: envToken ? "env" : contextToken ? "context" : "none",
  };
}

export interface Session extends Target {
  configFile: string;
  config: CtlConfig;
  timeoutMs: number;
  api: Api;
}

export function openSession(flags: TargetFlags, vars: Env = process.env): Session {
  const configFile = configPath(vars);
  const config = loadConfig(configFile);
  const target = resolveTarget(flags, vars, config);
  const timeoutMs = parseDuration(flags.requestTimeout || DEFAULT_TIMEOUT, "--request-timeout")!;
  const http = new HttpClient({ server: target.server, token: target.token, timeoutMs });
  return { ...target, configFile, config, timeoutMs, api: createApi(http) };
}
