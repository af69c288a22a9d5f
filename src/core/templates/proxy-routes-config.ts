import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { type Document, isMap, isSeq, parseDocument } from "yaml";
import { stripBom } from "./text-content.ts";

/** The backend list of one proxy: what its servers, try and forced-hosts sections must say. */
export interface ProxyRouteTable {
  /** name → host:port, in order */
  readonly servers: readonly { readonly name: string; readonly address: string }[];
  /** names a joining (or kicked) player is sent to, in order */
  readonly try: readonly string[];
  readonly forcedHosts: readonly { readonly host: string; readonly servers: readonly string[] }[];
}

/** Which proxy config the table goes into, and the console command that makes the proxy re-read it. */
export const PROXY_CONFIGS = {
  VELOCITY: { file: "velocity.toml", reloadCommand: "velocity reload" },
  BUNGEECORD: { file: "config.yml", reloadCommand: "greload" },
} as const;

export type ProxyConfigFormat = keyof typeof PROXY_CONFIGS;

export class ProxyConfigError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "ProxyConfigError";
  }
}

/**
 * Writes the table into a proxy config, leaving every other key of the file as it was. Returns
 * undefined when the file already routes exactly so (the caller then neither writes nor reloads).
 *
 * Velocity: `[servers]` becomes the servers plus `try`, `[forced-hosts]` the hosts (a key a
 * template had there is dropped: a name that no longer exists makes Velocity refuse the file).
 * BungeeCord/Waterfall: `servers` (address, motd, restricted: false), and on the first listener
 * `priorities` (try) and `forced_hosts` (first server of each host, all BungeeCord takes).
 */
export function renderProxyRoutes(
  format: ProxyConfigFormat,
  text: string,
  table: ProxyRouteTable,
): string | undefined {
  return format === "VELOCITY" ? renderVelocity(text, table) : renderBungee(text, table);
}

function velocityServers(table: ProxyRouteTable): Record<string, unknown> {
  const servers: Record<string, unknown> = {};
  for (const server of table.servers) servers[server.name] = server.address;
  servers.try = [...table.try];
  return servers;
}

function velocityHosts(table: ProxyRouteTable): Record<string, string[]> {
  return Object.fromEntries(table.forcedHosts.map((entry) => [entry.host, [...entry.servers]]));
}

function renderVelocity(text: string, table: ProxyRouteTable): string | undefined {
  const file = PROXY_CONFIGS.VELOCITY.file;
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(stripBom(text), { integersAsBigInt: "asNeeded" }) as Record<string, unknown>;
  } catch (err) {
    throw new ProxyConfigError(file, `not valid TOML: ${(err as Error).message}`);
  }
  const servers = velocityServers(table);
  const hosts = velocityHosts(table);
  if (sameJson(doc.servers, servers) && sameJson(doc["forced-hosts"] ?? {}, hosts)) return undefined;
  doc.servers = servers;
  doc["forced-hosts"] = hosts;
  const out = stringifyToml(doc);
  return out.endsWith("\n") ? out : `${out}\n`;
}

function renderBungee(text: string, table: ProxyRouteTable): string | undefined {
  const file = PROXY_CONFIGS.BUNGEECORD.file;
  const doc: Document = parseDocument(text);
  if (doc.errors.length > 0) throw new ProxyConfigError(file, `not valid YAML: ${doc.errors[0]!.message}`);
  const servers = Object.fromEntries(
    table.servers.map((server) => [
      server.name,
      { motd: server.name, address: server.address, restricted: false },
    ]),
  );
  const priorities = [...table.try];
  const forced = Object.fromEntries(
    table.forcedHosts
      .filter((entry) => entry.servers.length > 0)
      .map((entry) => [entry.host, entry.servers[0]!]),
  );
  const listeners = doc.get("listeners");
  if (listeners !== undefined && !isSeq(listeners))
    throw new ProxyConfigError(file, "listeners is not a list");
  const first = isSeq(listeners) ? listeners.get(0) : undefined;
  if (first !== undefined && !isMap(first)) throw new ProxyConfigError(file, "listeners[0] is not a map");
  const current = doc.toJS() as {
    servers?: unknown;
    listeners?: Array<{ priorities?: unknown; forced_hosts?: unknown }>;
  } | null;
  if (
    sameJson(current?.servers, servers) &&
    sameJson(current?.listeners?.[0]?.priorities, priorities) &&
    sameJson(current?.listeners?.[0]?.forced_hosts ?? {}, forced)
  ) {
    return undefined;
  }
  doc.setIn(["servers"], servers);
  doc.setIn(["listeners", 0, "priorities"], priorities);
  doc.setIn(["listeners", 0, "forced_hosts"], forced);
  return String(doc);
}

/** Structural equality of two JSON-shaped values, key order included (the order is the routing). */
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a, (_k, v) => (typeof v === "bigint" ? v.toString() : v)) === JSON.stringify(b);
}
