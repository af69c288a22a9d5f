import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { ControllerConfig } from "../../config/controller-config.ts";
import { AppError } from "../../core/errors.ts";

export function clusterSecretFile(root: string): string {
  return join(resolve(root), "config", "security", "cluster-secret");
}

/**
 * The passphrase that seals the cluster CA key in the durable store. Configured (file or
 * PREXOR_SECURITY__CLUSTER_SECRET) wins; production refuses to run without it (the config check
 * already says so). In development a blank value is replaced by a generated one kept 0600 beside
 * the config, so `prexor up` needs no setup and a restart finds the same CA.
 *
 * The value is never logged, never echoed in errors, and never written anywhere but that file.
 */
export function resolveClusterSecret(config: ControllerConfig, root: string): string {
  const configured = config.security.clusterSecret;
  if (configured !== "") return configured;
  if (config.runtime.profile === "production") {
    throw new AppError(
      "CONFIG_INVALID",
      "security.clusterSecret must be set in production (or PREXOR_SECURITY__CLUSTER_SECRET)",
    );
  }
  const file = clusterSecretFile(root);
  if (existsSync(file)) {
    const saved = readFileSync(file, "utf8").trim();
    if (saved !== "") {
      // A copied or restored file can arrive world-readable; the secret must not stay that way.
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
      return saved;
    }
  }
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
