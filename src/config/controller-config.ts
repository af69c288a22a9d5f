import { type ControllerConfig, ControllerConfigSchema } from "./controller-schema.ts";
import { ConfigError, type ConfigIssue } from "./issues.ts";
import { type LoadOptions, loadConfigFile, parseConfigText } from "./load.ts";

export type { ControllerConfig } from "./controller-schema.ts";
export type StoreDriver = "embedded" | "mongodb";

export const CONTROLLER_ENV_PREFIX = "PREXOR_";

/** A passphrase shorter than this is too easy to guess from a leaked sealed CA key. */
export const MIN_CLUSTER_SECRET_LENGTH = 16;

type Options = Omit<LoadOptions, "envPrefix">;

export function loadControllerConfig(file: string, options: Options = {}): ControllerConfig {
  const config = loadConfigFile(ControllerConfigSchema, file, {
    ...options,
    envPrefix: CONTROLLER_ENV_PREFIX,
  });
  return checkControllerConfig(config, file);
}

export function parseControllerConfig(
  text: string,
  file = "controller.yml",
  options: Options = {},
): ControllerConfig {
  const config = parseConfigText(ControllerConfigSchema, text, file, {
    ...options,
    envPrefix: CONTROLLER_ENV_PREFIX,
  });
  return checkControllerConfig(config, file);
}

export function storeDriverOf(config: ControllerConfig): StoreDriver {
  if (config.database.driver !== "auto") return config.database.driver;
  return config.runtime.profile === "production" ? "mongodb" : "embedded";
}

export function signingRequired(config: ControllerConfig): boolean {
  return config.modules.signing.required ?? config.runtime.profile === "production";
}

/** Rules that span several keys; the schema checks each key on its own. */
function checkControllerConfig(config: ControllerConfig, file: string): ControllerConfig {
  const issues: ConfigIssue[] = [];
  const production = config.runtime.profile === "production";
  if (config.http.port === config.grpc.port && config.http.host === config.grpc.host) {
    issues.push({ path: "grpc.port", message: `must differ from http.port (${config.http.port})` });
  }
  if (production && !config.redis) {
    issues.push({ path: "redis.uri", message: "must be configured when runtime.profile=production" });
  }
  if (production && storeDriverOf(config) !== "mongodb") {
    issues.push({
      path: "database.driver",
      message: "production needs mongodb; the embedded store serves one controller",
    });
  }
  const clusterSecret = config.security.clusterSecret;
  if (production && clusterSecret.trim() === "") {
    issues.push({
      path: "security.clusterSecret",
      message:
        "must be set when runtime.profile=production (the same value on every controller; " +
        "or set PREXOR_SECURITY__CLUSTER_SECRET)",
    });
  } else if (clusterSecret !== "" && clusterSecret.length < MIN_CLUSTER_SECRET_LENGTH) {
    issues.push({
      path: "security.clusterSecret",
      message: `expected at least ${MIN_CLUSTER_SECRET_LENGTH} characters`,
    });
  }
  if (config.security.jwtSecret !== "" && decodedLength(config.security.jwtSecret) < 32) {
    issues.push({ path: "security.jwtSecret", message: "expected base64 of at least 32 bytes" });
  }
  for (const [i, secret] of config.security.jwtPreviousSecrets.entries()) {
    if (decodedLength(secret) < 32) {
      issues.push({
        path: `security.jwtPreviousSecrets.${i}`,
        message: "expected base64 of at least 32 bytes",
      });
    }
  }
  const signing = config.modules.signing;
  if (
    signingRequired(config) &&
    signing.trustRoot === "" &&
    !(production === false && signing.allowUnsignedDevelopment)
  ) {
    issues.push({ path: "modules.signing.trustRoot", message: "required when module signing is required" });
  }
  if (
    signing.rekor.policy === "REQUIRE_SET" &&
    (signing.mode !== "COSIGN_BUNDLE" || signing.rekor.publicKey === "")
  ) {
    issues.push({
      path: "modules.signing.rekor.policy",
      message: "REQUIRE_SET needs mode COSIGN_BUNDLE and rekor.publicKey",
    });
  }
  for (const [i, cidr] of [...config.network.allowedSubnets, ...config.http.trustedProxyCidrs].entries()) {
    if (!isCidr(cidr))
      issues.push({ path: `network.allowedSubnets.${i}`, message: `expected a CIDR, got "${cidr}"` });
  }
  if (issues.length > 0) throw new ConfigError(file, issues);
  return config;
}

function decodedLength(b64: string): number {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64)) return 0;
  return Buffer.from(b64, "base64").length;
}

export function isCidr(value: string): boolean {
  const [addr, bits, extra] = value.split("/");
  if (extra !== undefined || addr === undefined || bits === undefined || !/^\d{1,3}$/.test(bits))
    return false;
  const n = Number(bits);
  const family = addr.includes(":") ? 6 : 4;
  if (family === 4) {
    const parts = addr.split(".");
    return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255) && n <= 32;
  }
  return /^[0-9a-fA-F:.]+$/.test(addr) && addr.split("::").length <= 2 && n <= 128;
}
