import { describe, expect, test } from "bun:test";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { renderProxyRoutes } from "../../../../src/core/templates/proxy-routes-config.ts";

const table = {
  servers: [
    { name: "lobby-1", address: "10.0.0.5:30001" },
    { name: "lobby-2", address: "10.0.0.6:30002" },
  ],
  try: ["lobby-1", "lobby-2"],
  forcedHosts: [{ host: "lobby.example.com", servers: ["lobby-2", "lobby-1"] }],
};

const VELOCITY = `config-version = "2.7"
bind = "0.0.0.0:25577"
player-info-forwarding-mode = "modern"

[servers]
lobby = "127.0.0.1:30066"
factions = "127.0.0.1:30067"
try = ["lobby"]

[forced-hosts]
"lobby.example.com" = ["lobby"]
"factions.example.com" = ["factions"]

[advanced]
compression-threshold = 256
`;

describe("proxy route rendering", () => {
  test("velocity.toml: servers, try and forced-hosts replaced whole, every other key kept", () => {
    const out = renderProxyRoutes("VELOCITY", VELOCITY, table)!;
    expect(parseToml(out)).toEqual({
      "config-version": "2.7",
      bind: "0.0.0.0:25577",
      "player-info-forwarding-mode": "modern",
      servers: { "lobby-1": "10.0.0.5:30001", "lobby-2": "10.0.0.6:30002", try: ["lobby-1", "lobby-2"] },
      "forced-hosts": { "lobby.example.com": ["lobby-2", "lobby-1"] },
      advanced: { "compression-threshold": 256 },
    });
    // The same table again changes nothing: no write, no reload.
    expect(renderProxyRoutes("VELOCITY", out, table)).toBeUndefined();
    // Any change in order is a change (try is the order players are sent in).
    expect(renderProxyRoutes("VELOCITY", out, { ...table, try: ["lobby-2", "lobby-1"] })).toBeDefined();
  });

  test("velocity.toml: no backends is an empty list, and a missing file is created", () => {
    const empty = renderProxyRoutes("VELOCITY", "", { servers: [], try: [], forcedHosts: [] })!;
    expect(parseToml(empty)).toEqual({ servers: { try: [] }, "forced-hosts": {} });
  });

  test("config.yml (BungeeCord/Waterfall): servers, the first listener's priorities and forced hosts", () => {
    const before =
      "# BungeeCord\nip_forward: true\nlisteners:\n- host: 0.0.0.0:25577\n  priorities:\n  - lobby\n  forced_hosts:\n    pvp.md-5.net: pvp\nservers:\n  lobby:\n    address: localhost:25565\n";
    const out = renderProxyRoutes("BUNGEECORD", before, table)!;
    expect(out).toContain("# BungeeCord");
    expect(parseYaml(out)).toEqual({
      ip_forward: true,
      listeners: [
        {
          host: "0.0.0.0:25577",
          priorities: ["lobby-1", "lobby-2"],
          forced_hosts: { "lobby.example.com": "lobby-2" },
        },
      ],
      servers: {
        "lobby-1": { motd: "lobby-1", address: "10.0.0.5:30001", restricted: false },
        "lobby-2": { motd: "lobby-2", address: "10.0.0.6:30002", restricted: false },
      },
    });
    expect(renderProxyRoutes("BUNGEECORD", out, table)).toBeUndefined();
    // Without a listeners list, one is made.
    expect(parseYaml(renderProxyRoutes("BUNGEECORD", "", table)!).listeners[0].priorities).toEqual([
      "lobby-1",
      "lobby-2",
    ]);
  });

  test("a config that does not parse is an error, not a silent overwrite", () => {
    expect(() => renderProxyRoutes("VELOCITY", "= nope", table)).toThrow(/velocity\.toml: not valid TOML/);
    expect(() => renderProxyRoutes("BUNGEECORD", "listeners: [", table)).toThrow(
      /config\.yml: not valid YAML/,
    );
    expect(() => renderProxyRoutes("BUNGEECORD", "listeners: 5\n", table)).toThrow(/not a list/);
  });
});
