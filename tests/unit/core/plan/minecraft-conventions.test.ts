import { describe, expect, test } from "bun:test";
import { forwardingRoleOf } from "../../../../src/controller/networks/forwarding-role.ts";
import {
  AIKAR_SERVER_FLAGS,
  conventionPatches,
  jvmFlagsFor,
  needsForwardingSecret,
  PROXY_FLAGS,
} from "../../../../src/core/plan/minecraft-conventions.ts";

const none = { kind: "none" } as const;
const proxy = { kind: "proxy" } as const;
const velocityBackend = { kind: "backend", proxyFormat: "VELOCITY" } as const;
const bungeeBackend = { kind: "backend", proxyFormat: "BUNGEECORD" } as const;
const keys = (patches: { file: string; path: string; value: string }[]) =>
  patches.map((p) => `${p.file}:${p.path}=${p.value}`);

describe("Minecraft conventions", () => {
  test("a standalone Paper server gets its port and an all-address listen, nothing about proxies", () => {
    expect(keys(conventionPatches("PAPER", none))).toEqual([
      "server.properties:server-port=%PORT%",
      "server.properties:server-ip=",
    ]);
  });

  test("a Paper backend behind Velocity: offline mode and the paper-global velocity block with the secret", () => {
    expect(keys(conventionPatches("PAPER", velocityBackend))).toEqual([
      "server.properties:server-port=%PORT%",
      "server.properties:server-ip=",
      "server.properties:online-mode=false",
      "config/paper-global.yml:proxies.velocity.enabled=true",
      "config/paper-global.yml:proxies.velocity.online-mode=true",
      "config/paper-global.yml:proxies.velocity.secret=%FORWARDING_SECRET%",
    ]);
    // Forks read Paper's files.
    expect(conventionPatches("PURPUR", velocityBackend)).toEqual(conventionPatches("PAPER", velocityBackend));
  });

  test("a Velocity proxy of a network: bind on the port, modern forwarding from forwarding.secret", () => {
    expect(keys(conventionPatches("VELOCITY", proxy))).toEqual([
      "velocity.toml:bind=0.0.0.0:%PORT%",
      "velocity.toml:player-info-forwarding-mode=modern",
      "velocity.toml:forwarding-secret-file=forwarding.secret",
    ]);
    expect(keys(conventionPatches("VELOCITY", none))).toEqual(["velocity.toml:bind=0.0.0.0:%PORT%"]);
  });

  test("BungeeCord/Waterfall: the first listener's host, ip_forward, and bungeecord mode on backends", () => {
    expect(keys(conventionPatches("WATERFALL", proxy))).toEqual([
      "config.yml:listeners.0.host=0.0.0.0:%PORT%",
      "config.yml:ip_forward=true",
    ]);
    expect(keys(conventionPatches("PAPER", bungeeBackend))).toContain("spigot.yml:settings.bungeecord=true");
    expect(keys(conventionPatches("SPIGOT", bungeeBackend))).toContain("server.properties:online-mode=false");
  });

  test("CUSTOM and unknown platforms get nothing", () => {
    expect(conventionPatches("CUSTOM", velocityBackend)).toEqual([]);
    expect(jvmFlagsFor("CUSTOM", [])).toEqual([]);
  });

  test("JVM flags: Aikar's for servers, Velocity's for proxies, the group's own replace them whole", () => {
    expect(jvmFlagsFor("PAPER", [])).toEqual([...AIKAR_SERVER_FLAGS]);
    expect(jvmFlagsFor("FOLIA", [])).toContain("-XX:+UseG1GC");
    expect(jvmFlagsFor("VELOCITY", [])).toEqual([...PROXY_FLAGS]);
    expect(jvmFlagsFor("PAPER", ["-XX:+UseZGC"])).toEqual(["-XX:+UseZGC"]);
    // The heap is sized from memoryMb at launch, never by a default flag.
    expect([...AIKAR_SERVER_FLAGS, ...PROXY_FLAGS].some((f) => /^-Xm[sx]/.test(f))).toBe(false);
  });

  test("who is sent the forwarding secret", () => {
    expect(needsForwardingSecret("VELOCITY", proxy)).toBe(true);
    expect(needsForwardingSecret("PAPER", velocityBackend)).toBe(true);
    expect(needsForwardingSecret("PAPER", none)).toBe(false);
    expect(needsForwardingSecret("PAPER", bungeeBackend)).toBe(false);
    expect(needsForwardingSecret("WATERFALL", proxy)).toBe(false);
    expect(needsForwardingSecret("SPIGOT", velocityBackend)).toBe(false);
  });

  test("the role comes from the network compositions and the proxies' platforms", () => {
    const networks = [
      { proxyGroups: ["proxy"], lobbyGroup: "lobby", fallbackGroups: ["overflow"], memberGroups: ["games"] },
      { proxyGroups: ["bungee"], lobbyGroup: "legacy", fallbackGroups: [], memberGroups: [] },
    ];
    const platforms = new Map([
      ["proxy", "VELOCITY"],
      ["bungee", "WATERFALL"],
    ]);
    expect(forwardingRoleOf("proxy", networks, platforms)).toEqual(proxy);
    expect(forwardingRoleOf("lobby", networks, platforms)).toEqual(velocityBackend);
    expect(forwardingRoleOf("overflow", networks, platforms)).toEqual(velocityBackend);
    expect(forwardingRoleOf("games", networks, platforms)).toEqual(velocityBackend);
    expect(forwardingRoleOf("legacy", networks, platforms)).toEqual(bungeeBackend);
    expect(forwardingRoleOf("elsewhere", networks, platforms)).toEqual(none);
    // A network with no proxies makes no backends.
    expect(
      forwardingRoleOf(
        "x",
        [{ proxyGroups: [], lobbyGroup: "x", fallbackGroups: [], memberGroups: [] }],
        platforms,
      ),
    ).toEqual(none);
  });
});
