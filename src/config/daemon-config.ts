import { type DaemonConfig, DaemonConfigSchema } from "./daemon-schema.ts";
import { type LoadOptions, loadConfigFile, parseConfigText } from "./load.ts";

export type { DaemonConfig } from "./daemon-schema.ts";
export const DAEMON_ENV_PREFIX = "PREXOR_DAEMON_";

type Options = Omit<LoadOptions, "envPrefix">;

export function loadDaemonConfig(file: string, options: Options = {}): DaemonConfig {
  return loadConfigFile(DaemonConfigSchema, file, { ...options, envPrefix: DAEMON_ENV_PREFIX });
}

export function parseDaemonConfig(text: string, file = "daemon.yml", options: Options = {}): DaemonConfig {
  return parseConfigText(DaemonConfigSchema, text, file, { ...options, envPrefix: DAEMON_ENV_PREFIX });
}
