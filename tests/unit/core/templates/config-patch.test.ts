import { describe, expect, test } from "bun:test";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import {
  applyConfigPatches,
  ConfigPatchError,
  patchFormatOf,
} from "../../../../src/core/templates/config-patch.ts";

const set = (path: string, value: string) => ({ op: "SET" as const, file: "", path, value });
const vars = { PORT: "30001", FORWARDING_SECRET: "s3cr3t-value" };

describe("config patches", () => {
  test("format from the extension", () => {
    expect(patchFormatOf("server.properties")).toBe("properties");
    expect(patchFormatOf("config/paper-global.yml")).toBe("yaml");
    expect(patchFormatOf("x.YAML")).toBe("yaml");
    expect(patchFormatOf("velocity.toml")).toBe("toml");
    expect(patchFormatOf("a.json")).toBe("json");
    expect(patchFormatOf("forwarding.secret")).toBe("text");
  });

  test("properties: an existing key keeps its place and comments, a new one is added, placeholders filled", () => {
    const before = "# Minecraft server properties\nserver-port=25565\nmotd=hello\n";
    const after = applyConfigPatches(
      "server.properties",
      before,
      [set("server-port", "%PORT%"), set("online-mode", "false"), set("server-ip", "")],
      vars,
    );
    const lines = after.split("\n");
    expect(lines[0]).toBe("# Minecraft server properties");
    expect(lines[1]).toBe("server-port=30001");
    expect(lines).toContain("motd=hello");
    expect(lines).toContain("online-mode=false");
    expect(lines).toContain("server-ip=");
    expect(after.endsWith("\n")).toBe(true);
  });

  test("properties: a file that does not exist yet is created from the patches", () => {
    const after = applyConfigPatches("server.properties", "", [set("server-port", "%PORT%")], vars);
    expect(after).toContain("server-port=30001");
  });

  test("YAML: nested keys are created, typed from JSON, comments kept, secret only inside strings", () => {
    const before =
      "# Paper global config\n_version: 29\nproxies:\n  # bungee\n  bungee-cord:\n    online-mode: true\n";
    const after = applyConfigPatches(
      "config/paper-global.yml",
      before,
      [
        set("proxies.velocity.enabled", "true"),
        set("proxies.velocity.online-mode", "true"),
        set("proxies.velocity.secret", "%FORWARDING_SECRET%"),
      ],
      vars,
    );
    expect(after).toContain("# Paper global config");
    expect(after).toContain("# bungee");
    const doc = parseYaml(after) as { _version: number; proxies: Record<string, Record<string, unknown>> };
    expect(doc._version).toBe(29);
    expect(doc.proxies["bungee-cord"]).toEqual({ "online-mode": true });
    expect(doc.proxies.velocity).toEqual({ enabled: true, "online-mode": true, secret: "s3cr3t-value" });
  });

  test("YAML: an all-digit segment indexes a list (BungeeCord's first listener)", () => {
    const before = "listeners:\n- host: 0.0.0.0:25577\n  motd: hi\nip_forward: false\n";
    const after = applyConfigPatches(
      "config.yml",
      before,
      [set("listeners.0.host", "0.0.0.0:%PORT%"), set("ip_forward", "true")],
      vars,
    );
    expect(parseYaml(after)).toEqual({
      listeners: [{ host: "0.0.0.0:30001", motd: "hi" }],
      ip_forward: true,
    });
  });

  test("TOML: keys set, tables kept, strings that are not JSON stay strings", () => {
    const before =
      'bind = "0.0.0.0:25577"\nmotd = "hi"\n[servers]\nlobby = "127.0.0.1:30066"\ntry = ["lobby"]\n';
    const after = applyConfigPatches(
      "velocity.toml",
      before,
      [
        set("bind", "0.0.0.0:%PORT%"),
        set("player-info-forwarding-mode", "modern"),
        set("forwarding-secret-file", "forwarding.secret"),
        set("advanced.compression-threshold", "256"),
      ],
      vars,
    );
    expect(parseToml(after)).toEqual({
      bind: "0.0.0.0:30001",
      motd: "hi",
      "player-info-forwarding-mode": "modern",
      "forwarding-secret-file": "forwarding.secret",
      servers: { lobby: "127.0.0.1:30066", try: ["lobby"] },
      advanced: { "compression-threshold": 256 },
    });
  });

  test("JSON: set into a new file and an existing one", () => {
    expect(JSON.parse(applyConfigPatches("a.json", "", [set("a.b", "[1,2]")], vars))).toEqual({
      a: { b: [1, 2] },
    });
    expect(JSON.parse(applyConfigPatches("a.json", '{"x":1}', [set("y", '"%PORT%"')], vars))).toEqual({
      x: 1,
      y: "30001",
    });
  });

  test("REPLACE and REGEX work on any text file, in order", () => {
    const out = applyConfigPatches(
      "motd.txt",
      "Welcome to SERVER on port 1\nport 2\n",
      [
        { op: "REPLACE", file: "", path: "SERVER", value: "lobby" },
        { op: "REGEX", file: "", path: "^port (\\d)$", value: "port %PORT%" },
      ],
      vars,
    );
    expect(out).toBe("Welcome to lobby on port 1\nport 30001\n");
  });

  test("patches that cannot apply say which file and why", () => {
    expect(() => applyConfigPatches("a.yml", "a: [unclosed", [set("a", "1")], vars)).toThrow(
      ConfigPatchError,
    );
    expect(() => applyConfigPatches("a.toml", "= broken", [set("a", "1")], vars)).toThrow(
      /a\.toml.*not valid TOML/,
    );
    expect(() => applyConfigPatches("a.json", '{"a":1}', [set("a.b", "1")], vars)).toThrow(
      /a is not a table/,
    );
    expect(() => applyConfigPatches("forwarding.secret", "", [set("a", "1")], vars)).toThrow(/SET needs/);
    expect(() => applyConfigPatches("a.json", "{}", [set("__proto__.x", "1")], vars)).toThrow(/not allowed/);
    expect(() =>
      applyConfigPatches("a.txt", "x", [{ op: "REGEX", file: "", path: "(", value: "" }], vars),
    ).toThrow(/invalid regular expression/);
    expect(() => applyConfigPatches("a.json", "{}", [set("a..b", "1")], vars)).toThrow(/bad key path/);
  });
});
