import { describe, expect, test } from "bun:test";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { deepMerge } from "../../../../src/core/templates/merge/deep-merge.ts";
import { mergeJson } from "../../../../src/core/templates/merge/merge-json.ts";
import { mergeLines } from "../../../../src/core/templates/merge/merge-lines.ts";
import { mergeToml } from "../../../../src/core/templates/merge/merge-toml.ts";
import { mergeYaml } from "../../../../src/core/templates/merge/merge-yaml.ts";

describe("deepMerge", () => {
  test("merges maps recursively; lists and scalars are replaced whole", () => {
    const base = { a: 1, nested: { keep: true, list: [1, 2, 3], deeper: { x: 1 } }, list: ["a"] };
    const overlay = { nested: { list: [9], deeper: { y: 2 } }, list: [], b: null };
    expect(deepMerge(base, overlay)).toEqual({
      a: 1,
      nested: { keep: true, list: [9], deeper: { x: 1, y: 2 } },
      list: [],
      b: null,
    });
  });

  test("a map meeting a scalar (either way round) takes the overlay", () => {
    expect(deepMerge({ a: { b: 1 } }, { a: "flat" })).toEqual({ a: "flat" });
    expect(deepMerge({ a: "flat" }, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
  });

  test("does not mutate its inputs and treats __proto__ as data", () => {
    const base = JSON.parse('{"a":{"b":1}}');
    const overlay = JSON.parse('{"a":{"c":2},"__proto__":{"polluted":true}}');
    const merged = deepMerge(base, overlay) as Record<string, unknown>;
    expect(base).toEqual({ a: { b: 1 } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.hasOwn(merged, "__proto__")).toBe(true);
  });
});

describe("mergeYaml", () => {
  const paperGlobal = [
    "# This is the global configuration file for Paper.",
    "_version: 29",
    "proxies:",
    "  bungee-cord:",
    "    online-mode: true",
    "  velocity:",
    "    enabled: false # set by the cloud",
    "    online-mode: false",
    "    secret: ''",
    "chunk-loading-basic:",
    "  player-max-chunk-load-rate: 100.0",
    "unsupported-settings:",
    "  allow-headless-pistons: false",
    "spam-limiter:",
    "  tab-spam-limit: 500",
    "  recipe-spam-increment: 1",
    "timings:",
    "  hidden-config-entries:",
    "  - database",
    "  - proxies.velocity.secret",
    "",
  ].join("\n");

  test("deep-merges maps, replaces lists and scalars, keeps unrelated keys", () => {
    const overlay = [
      "proxies:",
      "  velocity:",
      "    enabled: true",
      "    secret: '%FORWARDING_SECRET%'",
      "timings:",
      "  hidden-config-entries:",
      "  - proxies.velocity.secret",
      "spam-limiter: 7",
      "messages:",
      "  no-permission: '&cNope'",
    ].join("\n");
    const merged = parseYaml(mergeYaml(paperGlobal, overlay)!);
    expect(merged).toEqual({
      _version: 29,
      proxies: {
        "bungee-cord": { "online-mode": true },
        velocity: { enabled: true, "online-mode": false, secret: "%FORWARDING_SECRET%" },
      },
      "chunk-loading-basic": { "player-max-chunk-load-rate": 100 },
      "unsupported-settings": { "allow-headless-pistons": false },
      "spam-limiter": 7,
      timings: { "hidden-config-entries": ["proxies.velocity.secret"] },
      messages: { "no-permission": "&cNope" },
    });
  });

  test("keeps the base file's comments and key order", () => {
    const text = mergeYaml(paperGlobal, "proxies:\n  velocity:\n    online-mode: true\nnew-key: 1\n")!;
    expect(text.startsWith("# This is the global configuration file for Paper.\n_version: 29\n")).toBe(true);
    expect(text).toContain("enabled: false # set by the cloud");
    expect(text.trimEnd().endsWith("new-key: 1")).toBe(true);
  });

  test("updates numeric keys in place instead of adding a string twin", () => {
    const merged = parseYaml(mergeYaml("ranks:\n  1: guest\n  2: member\n", "ranks:\n  2: vip\n")!);
    expect(merged).toEqual({ ranks: { 1: "guest", 2: "vip" } });
  });

  test("resolves anchors and aliases in the overlay", () => {
    const overlay = "defaults: &d\n  speed: 2\nworld:\n  settings: *d\n";
    expect(parseYaml(mergeYaml("world:\n  name: lobby\n", overlay)!)).toEqual({
      world: { name: "lobby", settings: { speed: 2 } },
      defaults: { speed: 2 },
    });
  });

  test("keeps 64-bit integers digit for digit", () => {
    const text = mergeYaml(
      "channel: 123456789012345678\nsmall: 1\n",
      "small: 2\nowner: 98765432109876543210\n",
    )!;
    expect(text).toBe("channel: 123456789012345678\nsmall: 2\nowner: 98765432109876543210\n");
  });

  test("does not fold long strings", () => {
    const motd = `motd: '${"x".repeat(150)} end'`;
    const text = mergeYaml("a: 1\n", motd)!;
    expect(text).toContain(`motd: ${"x".repeat(150)} end`);
  });

  test("gives up (undefined) on syntax errors or non-map documents", () => {
    expect(mergeYaml("a: [1, 2\n", "a: 1\n")).toBeUndefined();
    expect(mergeYaml("a: 1\n", "key: : :\n  - bad")).toBeUndefined();
    expect(mergeYaml("- 1\n- 2\n", "a: 1\n")).toBeUndefined();
    expect(mergeYaml("a: 1\n", "")).toBeUndefined();
  });
});

describe("mergeJson", () => {
  test("deep-merges objects, replaces arrays and scalars, keeps indentation", () => {
    const base =
      '{\n    "motd": "x",\n    "limits": { "players": 20, "view": 10 },\n    "ops": ["a", "b"]\n}\n';
    const overlay = '{ "limits": { "players": 100 }, "ops": ["c"], "extra": true }';
    const text = mergeJson(base, overlay)!;
    expect(JSON.parse(text)).toEqual({
      motd: "x",
      limits: { players: 100, view: 10 },
      ops: ["c"],
      extra: true,
    });
    expect(text).toContain('\n    "motd": "x"');
    expect(text.endsWith("}\n")).toBe(true);
  });

  test("tolerates a byte-order mark and gives up on invalid JSON", () => {
    expect(JSON.parse(mergeJson('\uFEFF{"a":1}', '{"b":2}')!)).toEqual({ a: 1, b: 2 });
    expect(mergeJson('{"a":1', '{"b":2}')).toBeUndefined();
    expect(mergeJson('{"a":1}', "{b:2}")).toBeUndefined();
  });

  test("refuses to merge (undefined) when an integer would lose digits", () => {
    expect(mergeJson('{"channel": 123456789012345678}', '{"a": 1}')).toBeUndefined();
    expect(mergeJson('{"a": 1}', '{"owner": 98765432109876543210}')).toBeUndefined();
    expect(JSON.parse(mergeJson('{"a": 9007199254740991}', '{"b": 1.5}')!)).toEqual({
      a: 9007199254740991,
      b: 1.5,
    });
  });

  test("a top-level array overlay replaces the document", () => {
    expect(JSON.parse(mergeJson('{"a":1}', "[1,2]")!)).toEqual([1, 2]);
  });
});

describe("mergeToml", () => {
  const velocity = [
    'config-version = "2.7"',
    'bind = "0.0.0.0:25577"',
    'motd = "<#09add3>A Velocity Server"',
    "show-max-players = 500",
    "online-mode = true",
    'player-info-forwarding-mode = "NONE"',
    "",
    "[servers]",
    'lobby = "127.0.0.1:30066"',
    'factions = "127.0.0.1:30067"',
    'try = ["lobby"]',
    "",
    "[forced-hosts]",
    '"lobby.example.com" = ["lobby"]',
    "",
    "[advanced]",
    "compression-threshold = 256",
    "login-ratelimit = 3000",
    "",
  ].join("\n");

  test("deep-merges tables and replaces arrays and scalars", () => {
    const overlay = [
      'bind = "0.0.0.0:%PORT%"',
      'player-info-forwarding-mode = "MODERN"',
      "[servers]",
      'try = ["lobby", "fallback"]',
      "[advanced]",
      "login-ratelimit = 0",
    ].join("\n");
    expect(parseToml(mergeToml(velocity, overlay)!)).toEqual({
      "config-version": "2.7",
      bind: "0.0.0.0:%PORT%",
      motd: "<#09add3>A Velocity Server",
      "show-max-players": 500,
      "online-mode": true,
      "player-info-forwarding-mode": "MODERN",
      servers: { lobby: "127.0.0.1:30066", factions: "127.0.0.1:30067", try: ["lobby", "fallback"] },
      "forced-hosts": { "lobby.example.com": ["lobby"] },
      advanced: { "compression-threshold": 256, "login-ratelimit": 0 },
    });
  });

  test("keeps 64-bit integers digit for digit", () => {
    const text = mergeToml("[discord]\nchannel = 123456789012345678\n", "[discord]\nenabled = true\n")!;
    expect(text).toContain("channel = 123456789012345678");
    expect(text).toContain("enabled = true");
  });

  test("keeps datetimes as values and gives up on invalid TOML", () => {
    const merged = parseToml(mergeToml("a = 1979-05-27T07:32:00Z\n[t]\nx = 1\n", "[t]\ny = 2\n")!);
    expect(merged.a).toBeInstanceOf(Date);
    expect((merged.a as Date).toISOString()).toBe("1979-05-27T07:32:00.000Z");
    expect(merged.t).toEqual({ x: 1, y: 2 });
    expect(mergeToml("a = \n", "b = 1\n")).toBeUndefined();
  });
});

describe("mergeLines", () => {
  test("appends only lines the base does not have, once, in overlay order", () => {
    expect(mergeLines("alpha\nbeta\n", "beta\ngamma\n\ngamma\ndelta\n")).toBe("alpha\nbeta\ngamma\ndelta\n");
  });
  test("returns the base untouched when nothing is new, and handles a missing final newline and CRLF", () => {
    expect(mergeLines("eula=true\n", "eula=true\n")).toBe("eula=true\n");
    expect(mergeLines("a", "b")).toBe("a\nb\n");
    expect(mergeLines("a\r\n", "b\r\n")).toBe("a\r\nb\r\n");
    expect(mergeLines("", "x\n")).toBe("x\n");
  });
});
