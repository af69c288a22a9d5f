import { createHash } from "node:crypto";
import { canonicalJson } from "../../core/plan/canonical-json.ts";
import type { ProxyConfigFormat, ProxyRouteTable } from "../../core/templates/proxy-routes-config.ts";
import type { NetworkSpec } from "./network-service.ts";

type NetworkShape = Pick<
  NetworkSpec,
  "name" | "proxyGroups" | "lobbyGroup" | "fallbackGroups" | "memberGroups" | "forcedHosts"
>;

/** What the planner needs to know about an instance. */
export interface RouteInstance {
  readonly id: string;
  readonly group: string;
  readonly node: string;
  readonly state: string;
  readonly port: number;
}

export interface RoutePlanInput {
  readonly networks: readonly NetworkShape[];
  /** every instance that could matter (RUNNING and DRAINING at least) */
  readonly instances: readonly RouteInstance[];
  /** node id → the address proxies dial (the node's advertised address) */
  readonly nodeAddresses: ReadonlyMap<string, string>;
  /** proxy group → the config format its platform reads; groups missing here get no routes */
  readonly proxyFormats: ReadonlyMap<string, ProxyConfigFormat>;
  /** backends a BLUE_GREEN deployment keeps out of routing (the side routing is away from) */
  readonly unroutable?: ReadonlySet<string>;
}

/** One proxy instance's table, ready to send. */
export interface ProxyRoutePlan extends ProxyRouteTable {
  readonly instanceId: string;
  readonly node: string;
  readonly format: ProxyConfigFormat;
  /** hash over the table: equal tables, equal revisions */
  readonly revision: string;
}

/** A proxy keeps routing while it drains (its players are still on it). */
const LIVE_PROXY = new Set(["RUNNING", "DRAINING"]);

const byNaturalId = (a: RouteInstance, b: RouteInstance) => a.id.localeCompare(b.id, "en", { numeric: true });

function hostPort(address: string, port: number): string {
  return `${address.includes(":") && !address.startsWith("[") ? `[${address}]` : address}:${port}`;
}

/**
 * The backend list every live proxy instance should route by. Pure: the same world gives the same
 * tables and revisions on every controller.
 *
 * A backend is an instance of a network's lobby, fallback or member group that is RUNNING: it leaves
 * the list the moment it starts draining (or stops, or crashes). `try` is the lobby's instances then
 * each fallback group's, in that order; member groups are reachable by name (and forced hosts) but
 * not tried. A proxy group of several networks gets their union, in network-name order. A backend
 * whose node has no known address is left out rather than listed unreachable.
 */
export function planProxyRoutes(input: RoutePlanInput): ProxyRoutePlan[] {
  const running = new Map<string, RouteInstance[]>();
  for (const instance of [...input.instances].sort(byNaturalId)) {
    if (instance.state !== "RUNNING" || instance.port <= 0 || !input.nodeAddresses.get(instance.node))
      continue;
    if (input.unroutable?.has(instance.id)) continue;
    const list = running.get(instance.group) ?? [];
    list.push(instance);
    running.set(instance.group, list);
  }
  const namesOf = (group: string) => (running.get(group) ?? []).map((instance) => instance.id);

  interface Table {
    servers: Map<string, string>;
    try: string[];
    hosts: Map<string, string[]>;
  }
  const tables = new Map<string, Table>();
  const networks = [...input.networks].sort((a, b) => a.name.localeCompare(b.name));
  for (const network of networks) {
    const backends = [network.lobbyGroup, ...network.fallbackGroups, ...network.memberGroups];
    const tryGroups = [network.lobbyGroup, ...network.fallbackGroups];
    for (const proxyGroup of network.proxyGroups) {
      if (!input.proxyFormats.has(proxyGroup)) continue;
      const table: Table = tables.get(proxyGroup) ?? { servers: new Map(), try: [], hosts: new Map() };
      for (const group of backends) {
        for (const instance of running.get(group) ?? []) {
          table.servers.set(instance.id, hostPort(input.nodeAddresses.get(instance.node)!, instance.port));
        }
      }
      for (const name of tryGroups.flatMap(namesOf)) if (!table.try.includes(name)) table.try.push(name);
      for (const host of Object.keys(network.forcedHosts ?? {}).sort()) {
        const names = namesOf(network.forcedHosts[host]!);
        if (names.length === 0) continue;
        const merged = table.hosts.get(host) ?? [];
        for (const name of names) if (!merged.includes(name)) merged.push(name);
        table.hosts.set(host, merged);
      }
      tables.set(proxyGroup, table);
    }
  }

  const plans: ProxyRoutePlan[] = [];
  for (const proxy of [...input.instances].sort(byNaturalId)) {
    const table = tables.get(proxy.group);
    const format = input.proxyFormats.get(proxy.group);
    if (!table || !format || !LIVE_PROXY.has(proxy.state)) continue;
    const content: ProxyRouteTable = {
      servers: [...table.servers].map(([name, address]) => ({ name, address })),
      try: table.try,
      forcedHosts: [...table.hosts].map(([host, servers]) => ({ host, servers })),
    };
    const revision = createHash("sha256")
      .update(canonicalJson({ format, ...content }))
      .digest("hex")
      .slice(0, 16);
    plans.push({ instanceId: proxy.id, node: proxy.node, format, revision, ...content });
  }
  return plans;
}
