import type { ForwardingRole } from "../../core/plan/minecraft-conventions.ts";
import { configFormatOf } from "../../core/templates/platform-format.ts";
import type { NetworkSpec } from "./network-service.ts";

type NetworkShape = Pick<NetworkSpec, "proxyGroups" | "lobbyGroup" | "fallbackGroups" | "memberGroups">;

/**
 * A group's forwarding role from the network compositions: a proxy group of any network is a
 * proxy; a lobby, fallback or member group of a network whose proxy groups run Velocity (or
 * BungeeCord/Waterfall) is a backend of that kind. Velocity wins when networks disagree, since a
 * server cannot speak both and modern forwarding is the one that authenticates.
 */
export function forwardingRoleOf(
  group: string,
  networks: readonly NetworkShape[],
  platformOf: ReadonlyMap<string, string>,
): ForwardingRole {
  if (networks.some((network) => network.proxyGroups.includes(group))) return { kind: "proxy" };
  let bungee = false;
  for (const network of networks) {
    const backends = [network.lobbyGroup, ...network.fallbackGroups, ...network.memberGroups];
    if (!backends.includes(group)) continue;
    for (const proxy of network.proxyGroups) {
      const format = configFormatOf(platformOf.get(proxy) ?? "");
      if (format === "VELOCITY") return { kind: "backend", proxyFormat: "VELOCITY" };
      if (format === "BUNGEECORD") bungee = true;
    }
  }
  return bungee ? { kind: "backend", proxyFormat: "BUNGEECORD" } : { kind: "none" };
}
