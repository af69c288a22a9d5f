import { describe, expect, test } from "bun:test";
import { configFormatOf, platformBaseTemplateName } from "../../../../src/core/templates/platform-format.ts";
import { resolveTemplateChain } from "../../../../src/core/templates/template-chain.ts";

const all = (...names: string[]) => new Set(names);

describe("resolveTemplateChain", () => {
  test("orders base, platform base, group, then user templates in their listed order", () => {
    const chain = resolveTemplateChain({
      groupName: "lobby",
      platform: "PAPER",
      userTemplates: ["eu-events", "seasonal"],
      existing: all("base", "base-paper", "lobby", "eu-events", "seasonal"),
    });
    expect(chain.layers).toEqual([
      { name: "base", source: "base" },
      { name: "base-paper", source: "platform-base" },
      { name: "lobby", source: "group" },
      { name: "eu-events", source: "user" },
      { name: "seasonal", source: "user" },
    ]);
    expect(chain.skipped).toEqual([]);
  });

  test("skips missing layers and reports them instead of failing", () => {
    const chain = resolveTemplateChain({
      groupName: "bedwars",
      platform: "paper",
      userTemplates: ["maps", "ghost"],
      existing: all("base", "bedwars", "maps"),
    });
    expect(chain.layers.map((l) => l.name)).toEqual(["base", "bedwars", "maps"]);
    expect(chain.skipped).toEqual([
      { name: "base-paper", source: "platform-base" },
      { name: "ghost", source: "user" },
    ]);
  });

  test("deduplicates by name, keeping the first position", () => {
    const chain = resolveTemplateChain({
      groupName: "lobby",
      platform: "PAPER",
      userTemplates: ["extra", "base", "lobby", "extra", "base-paper", "more"],
      existing: all("base", "base-paper", "lobby", "extra", "more"),
    });
    expect(chain.layers.map((l) => `${l.source}:${l.name}`)).toEqual([
      "base:base",
      "platform-base:base-paper",
      "group:lobby",
      "user:extra",
      "user:more",
    ]);
  });

  test("a group named like the platform base still appears once, as the platform base", () => {
    const chain = resolveTemplateChain({
      groupName: "base-velocity",
      platform: "VELOCITY",
      userTemplates: [],
      existing: all("base", "base-velocity"),
    });
    expect(chain.layers).toEqual([
      { name: "base", source: "base" },
      { name: "base-velocity", source: "platform-base" },
    ]);
  });

  test("forks share their parent's platform base", () => {
    const chain = resolveTemplateChain({
      groupName: "proxy",
      platform: "WATERFALL",
      userTemplates: [],
      existing: all("base", "base-bungeecord", "proxy"),
    });
    expect(chain.layers.map((l) => l.name)).toEqual(["base", "base-bungeecord", "proxy"]);
  });
});

describe("platform formats", () => {
  test.each([
    ["PAPER", "PAPER", "base-paper"],
    ["purpur", "PAPER", "base-paper"],
    ["FOLIA", "PAPER", "base-paper"],
    ["SPIGOT", "SPIGOT", "base-spigot"],
    ["VELOCITY", "VELOCITY", "base-velocity"],
    ["BUNGEECORD", "BUNGEECORD", "base-bungeecord"],
    ["WATERFALL", "BUNGEECORD", "base-bungeecord"],
    ["GEYSER", "GEYSER", "base-geyser"],
  ])("%s → format %s, layer %s", (platform, format, layer) => {
    expect(configFormatOf(platform)).toBe(format as ReturnType<typeof configFormatOf>);
    expect(platformBaseTemplateName(platform)).toBe(layer);
  });

  test("platforms without a format get a layer named after themselves", () => {
    expect(configFormatOf("FABRIC")).toBeUndefined();
    expect(platformBaseTemplateName("FABRIC")).toBe("base-fabric");
    expect(platformBaseTemplateName("NeoForge")).toBe("base-neoforge");
  });
});
