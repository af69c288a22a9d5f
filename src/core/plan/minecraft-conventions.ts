import { type ConfigFormat, configFormatOf } from "../templates/platform-format.ts";
import type { PlanConfigPatch } from "./plan-types.ts";

/**
 * Where a group sits in a network composition, for forwarding: a proxy group of some network, a
 * backend (lobby, fallback or member group) of a network fronted by proxies of `proxyFormat`, or
 * neither.
 */
export type ForwardingRole =
  | { readonly kind: "none" }
  | { readonly kind: "proxy" }
  | { readonly kind: "backend"; readonly proxyFormat: "VELOCITY" | "BUNGEECORD" };

/**
 * Aikar's G1 flags (the flags PaperMC documents for servers), the default `jvmArgs` of Paper-family
 * servers when the group names none. A group that lists its own `jvmArgs` replaces them whole, so an
 * operator who tunes the collector is never fighting ours. `-Xmx`/`-Xms` come from `memoryMb` at
 * launch, never from here.
 */
export const AIKAR_SERVER_FLAGS: readonly string[] = [
  "-XX:+UseG1GC",
  "-XX:+ParallelRefProcEnabled",
  "-XX:MaxGCPauseMillis=200",
  "-XX:+UnlockExperimentalVMOptions",
  "-XX:+DisableExplicitGC",
  "-XX:+AlwaysPreTouch",
  "-XX:G1NewSizePercent=30",
  "-XX:G1MaxNewSizePercent=40",
  "-XX:G1HeapRegionSize=8M",
  "-XX:G1ReservePercent=20",
  "-XX:G1HeapWastePercent=5",
  "-XX:G1MixedGCCountTarget=4",
  "-XX:InitiatingHeapOccupancyPercent=15",
  "-XX:G1MixedGCLiveThresholdPercent=90",
  "-XX:G1RSetUpdatingPauseTimePercent=5",
  "-XX:SurvivorRatio=32",
  "-XX:+PerfDisableSharedMem",
  "-XX:MaxTenuringThreshold=1",
  "-Dusing.aikars.flags=https://mcflags.emc.gs",
  "-Daikars.new.flags=true",
];

/** The proxy flags Velocity's documentation recommends (G1, short pauses, no pre-touch needed). */
export const PROXY_FLAGS: readonly string[] = [
  "-XX:+UseG1GC",
  "-XX:G1HeapRegionSize=4M",
  "-XX:+UnlockExperimentalVMOptions",
  "-XX:+ParallelRefProcEnabled",
  "-XX:+AlwaysPreTouch",
  "-XX:MaxInlineLevel=15",
];

/** The group's own `jvmArgs` when it has any, else the platform default (none for unknown ones). */
export function jvmFlagsFor(platform: string, groupJvmArgs: readonly string[]): string[] {
  if (groupJvmArgs.length > 0) return [...groupJvmArgs];
  const format = configFormatOf(platform);
  if (format === "PAPER" || format === "SPIGOT") return [...AIKAR_SERVER_FLAGS];
  if (format === "VELOCITY" || format === "BUNGEECORD") return [...PROXY_FLAGS];
  return [];
}

const set = (file: string, path: string, value: string): PlanConfigPatch => ({
  op: "SET",
  file,
  path,
  value,
});

/**
 * The config patches every instance of a platform gets before the group's own (which win, being
 * later): the listen address and port always match the placement, and inside a network proxies and
 * backends agree on player-info forwarding. Values hold `%PORT%` / `%FORWARDING_SECRET%`, which the
 * daemon fills in at start, so neither the daemon-chosen port nor the secret is part of the plan.
 *
 * - servers: `server.properties` `server-port`, and `server-ip` empty (every address of the node:
 *   proxies dial the node's advertised address, the daemon pings on loopback);
 * - Velocity: `bind` on all addresses at the port; in a network, modern forwarding with the secret
 *   in `forwarding.secret` (the daemon writes that file);
 * - BungeeCord/Waterfall: the first listener's `host`; in a network, `ip_forward`;
 * - backends behind Velocity: `online-mode=false` and the `proxies.velocity` block of
 *   `config/paper-global.yml` (enabled, the secret, online-mode as the proxy authenticates);
 * - backends behind BungeeCord: `online-mode=false` and `settings.bungeecord` in `spigot.yml`.
 */
export function conventionPatches(platform: string, role: ForwardingRole): PlanConfigPatch[] {
  const format: ConfigFormat | undefined = configFormatOf(platform);
  const patches: PlanConfigPatch[] = [];
  if (format === "PAPER" || format === "SPIGOT") {
    patches.push(
      set("server.properties", "server-port", "%PORT%"),
      set("server.properties", "server-ip", ""),
    );
    if (role.kind === "backend") {
      patches.push(set("server.properties", "online-mode", "false"));
      if (role.proxyFormat === "VELOCITY" && format === "PAPER") {
        patches.push(
          set("config/paper-global.yml", "proxies.velocity.enabled", "true"),
          set("config/paper-global.yml", "proxies.velocity.online-mode", "true"),
          set("config/paper-global.yml", "proxies.velocity.secret", "%FORWARDING_SECRET%"),
        );
      }
      if (role.proxyFormat === "BUNGEECORD") patches.push(set("spigot.yml", "settings.bungeecord", "true"));
    }
  } else if (format === "VELOCITY") {
    patches.push(set("velocity.toml", "bind", "0.0.0.0:%PORT%"));
    if (role.kind === "proxy") {
      patches.push(
        set("velocity.toml", "player-info-forwarding-mode", "modern"),
        set("velocity.toml", "forwarding-secret-file", "forwarding.secret"),
      );
    }
  } else if (format === "BUNGEECORD") {
    patches.push(set("config.yml", "listeners.0.host", "0.0.0.0:%PORT%"));
    if (role.kind === "proxy") patches.push(set("config.yml", "ip_forward", "true"));
  }
  return patches;
}

/** True when an instance in this role needs the cluster's forwarding secret at start. */
export function needsForwardingSecret(platform: string, role: ForwardingRole): boolean {
  const format = configFormatOf(platform);
  if (role.kind === "proxy") return format === "VELOCITY";
  return role.kind === "backend" && role.proxyFormat === "VELOCITY" && format === "PAPER";
}
