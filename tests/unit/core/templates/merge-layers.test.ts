import { describe, expect, test } from "bun:test";
import { getProperties } from "properties-file";
import { parse as parseYaml } from "yaml";
import { isAppError } from "../../../../src/core/errors.ts";
import { mergeFileContents } from "../../../../src/core/templates/merge/merge-file.ts";
import { mergeKindForPath } from "../../../../src/core/templates/merge/merge-kind.ts";
import { mergeTemplateLayers } from "../../../../src/core/templates/merge/merge-layers.ts";
import type { TemplateFile } from "../../../../src/core/templates/template-file.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const file = (path: string, content: string | Uint8Array): TemplateFile => ({
  path,
  bytes: typeof content === "string" ? encode(content) : content,
});
const JAR_V1 = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x01]);
const JAR_V2 = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x02]);

describe("mergeKindForPath", () => {
  test.each([
    ["server.properties", "properties"],
    ["plugins/Foo/messages_EN.PROPERTIES", "properties"],
    ["config/paper-global.yml", "yaml"],
    ["plugins/x/config.yaml", "yaml"],
    ["velocity.toml", "toml"],
    ["ops.json", "json"],
    ["eula.txt", "lines"],
    ["plugins/x/settings.cfg", "lines"],
    ["a.conf", "lines"],
    ["a.ini", "lines"],
    ["banned.list", "lines"],
    ["plugins/Foo.jar", "replace"],
    ["world/level.dat", "replace"],
    ["start.sh", "replace"],
    ["Makefile", "replace"],
    [".properties", "replace"],
  ])("%s → %s", (path, kind) => {
    expect(mergeKindForPath(path)).toBe(kind as ReturnType<typeof mergeKindForPath>);
  });
});

describe("mergeFileContents", () => {
  test("a config file that is binary on either side is taken whole from the higher layer", () => {
    const outcome = mergeFileContents("data.yml", encode("a: 1\n"), new Uint8Array([0x61, 0, 0x62]));
    expect(outcome.fallback).toBe("binary");
    expect(outcome.bytes).toEqual(new Uint8Array([0x61, 0, 0x62]));
  });

  test("an unparseable config file is taken whole from the higher layer", () => {
    const outcome = mergeFileContents("a.json", encode('{"a":1}'), encode("{oops"));
    expect(outcome).toEqual({ bytes: encode("{oops"), kind: "json", fallback: "unparseable" });
  });
});

describe("mergeTemplateLayers", () => {
  const layers = [
    {
      name: "base",
      files: [
        file("server.properties", "server-port=%PORT%\nonline-mode=false\nmotd=%MOTD%\n"),
        file("eula.txt", "eula=true\n"),
        file("plugins/PrexorCloudPaperPlugin.jar", JAR_V1),
      ],
    },
    {
      name: "base-paper",
      files: [
        file("config/paper-global.yml", "proxies:\n  velocity:\n    enabled: true\n    online-mode: true\n"),
        file("server.properties", "spawn-protection=0\n"),
      ],
    },
    {
      name: "lobby",
      files: [
        file("server.properties", "online-mode=true\nmax-players=%MAX_PLAYERS%\n"),
        file("config/paper-global.yml", "proxies:\n  velocity:\n    online-mode: false\n"),
        file("plugins/PrexorCloudPaperPlugin.jar", JAR_V2),
        file("world/region/r.0.0.mca", new Uint8Array([0, 0, 0x20, 0x01])),
        file("eula.txt", "eula=true\n"),
      ],
    },
  ];

  test("unions directory trees, merges config files by type and replaces everything else", () => {
    const { files, fallbacks } = mergeTemplateLayers(layers);
    expect([...files.keys()]).toEqual([
      "config/paper-global.yml",
      "eula.txt",
      "plugins/PrexorCloudPaperPlugin.jar",
      "server.properties",
      "world/region/r.0.0.mca",
    ]);
    expect(getProperties(decode(files.get("server.properties")))).toEqual({
      "server-port": "%PORT%",
      "online-mode": "true",
      motd: "%MOTD%",
      "spawn-protection": "0",
      "max-players": "%MAX_PLAYERS%",
    });
    expect(parseYaml(decode(files.get("config/paper-global.yml")))).toEqual({
      proxies: { velocity: { enabled: true, "online-mode": false } },
    });
    expect(files.get("plugins/PrexorCloudPaperPlugin.jar")).toEqual(JAR_V2);
    expect(decode(files.get("eula.txt"))).toBe("eula=true\n");
    expect(fallbacks).toEqual([]);
  });

  test("reports config files it had to take whole", () => {
    const { files, fallbacks } = mergeTemplateLayers([
      { name: "base", files: [file("plugins/x/config.yml", "a: [1\n")] },
      { name: "group", files: [file("plugins/x/config.yml", "a: 2\n")] },
    ]);
    expect(decode(files.get("plugins/x/config.yml"))).toBe("a: 2\n");
    expect(fallbacks).toEqual([{ path: "plugins/x/config.yml", layer: "group", reason: "unparseable" }]);
  });

  test("addresses files by normalized path across layers", () => {
    const { files } = mergeTemplateLayers([
      { name: "a", files: [file("./plugins//x.properties", "a=1\n")] },
      { name: "b", files: [file("plugins/x.properties", "b=2\n")] },
    ]);
    expect([...files.keys()]).toEqual(["plugins/x.properties"]);
    expect(getProperties(decode(files.get("plugins/x.properties")))).toEqual({ a: "1", b: "2" });
  });

  test("rejects traversal and a path listed twice within one layer", () => {
    for (const bad of [
      [{ name: "evil", files: [file("../../etc/cron.d/x", "boom")] }],
      [{ name: "dup", files: [file("a.txt", "1"), file("./a.txt", "2")] }],
    ]) {
      let caught: unknown;
      try {
        mergeTemplateLayers(bad);
      } catch (error) {
        caught = error;
      }
      expect(isAppError(caught, "INVALID_ARGUMENT")).toBe(true);
    }
  });

  test("no layers means no files", () => {
    expect(mergeTemplateLayers([]).files.size).toBe(0);
  });
});
