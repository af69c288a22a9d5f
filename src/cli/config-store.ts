import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { LineCounter, parseDocument, stringify } from "yaml";
import { CliError } from "./errors.ts";

/** One controller the operator talks to, and the credentials for it. */
export interface ContextEntry {
  server: string;
  username?: string;
  token?: string;
  /** ISO time the token stops working; shown by `context list`, never trusted for auth */
  tokenExpiresAt?: string;
}

export interface CtlConfig {
  currentContext?: string;
  contexts: Record<string, ContextEntry>;
}

type Env = Record<string, string | undefined>;

/** `$XDG_CONFIG_HOME/prexorctl/config.yml`, else `~/.config/prexorctl/config.yml`. */
export function configPath(env: Env = process.env): string {
  const base = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || homedir(), ".config");
  return join(base, "prexorctl", "config.yml");
}

export function loadConfig(file: string): CtlConfig {
  if (!existsSync(file)) return { contexts: {} };
  const text = readFileSync(file, "utf8");
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const line = lines.linePos(first.pos[0]).line;
    throw new CliError(`${file}:${line}: invalid YAML: ${first.message.split("\n")[0]}`);
  }
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  if (typeof raw !== "object" || Array.isArray(raw)) throw new CliError(`${file}: expected a mapping`);
  const contexts: Record<string, ContextEntry> = {};
  const rawContexts = raw.contexts;
  if (rawContexts && typeof rawContexts === "object" && !Array.isArray(rawContexts)) {
    for (const [name, value] of Object.entries(rawContexts as Record<string, unknown>)) {
      if (!value || typeof value !== "object") continue;
      const v = value as Record<string, unknown>;
      // `controller` is the key older configs used for the URL.
      const server = typeof v.server === "string" ? v.server : v.controller;
      if (typeof server !== "string" || server === "") continue;
      contexts[name] = {
        server,
        ...(typeof v.username === "string" ? { username: v.username } : {}),
        ...(typeof v.token === "string" && v.token !== "" ? { token: v.token } : {}),
        ...(typeof v.tokenExpiresAt === "string" ? { tokenExpiresAt: v.tokenExpiresAt } : {}),
      };
    }
  }
  const current = typeof raw.currentContext === "string" ? raw.currentContext : undefined;
  return { ...(current ? { currentContext: current } : {}), contexts };
}

/**
 * The file holds bearer tokens: the directory is 0700 and the file 0600 from the first byte (it
 * is written under a temporary name with that mode and renamed), so no other user ever sees it.
 */
export function saveConfig(file: string, config: CtlConfig): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const body = {
    ...(config.currentContext ? { currentContext: config.currentContext } : {}),
    contexts: config.contexts,
  };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, stringify(body), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
