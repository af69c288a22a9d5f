import { describe, expect, test } from "bun:test";
import { getProperties } from "properties-file";
import { mergeProperties } from "../../../../src/core/templates/merge/merge-properties.ts";

const vanilla = [
  "#Minecraft server properties",
  "#Sun Nov 23 19:22:00 UTC 2026",
  "enable-command-block=false",
  "gamemode=survival",
  "max-players=20",
  "motd=A Minecraft Server",
  "online-mode=true",
  "server-port=25565",
  "",
].join("\n");

describe("mergeProperties", () => {
  test("keeps keys of both files and the overlay wins on shared keys", () => {
    const overlay = "max-players=100\nmotd=\\u00A7aPrexor Lobby\nallow-flight=true\n";
    const merged = getProperties(mergeProperties(vanilla, overlay));
    expect(merged).toEqual({
      "enable-command-block": "false",
      gamemode: "survival",
      "max-players": "100",
      motd: "\u00A7aPrexor Lobby",
      "online-mode": "true",
      "server-port": "25565",
      "allow-flight": "true",
    });
  });

  test("keeps the base layout: comments, order, overridden keys in place, new keys appended", () => {
    const overlay = "# lobby needs flight for the parkour\nallow-flight=true\nmax-players=100\n";
    expect(mergeProperties(vanilla, overlay)).toBe(
      [
        "#Minecraft server properties",
        "#Sun Nov 23 19:22:00 UTC 2026",
        "enable-command-block=false",
        "gamemode=survival",
        "max-players=100",
        "motd=A Minecraft Server",
        "online-mode=true",
        "server-port=25565",
        "# lobby needs flight for the parkour",
        "allow-flight=true",
        "",
      ].join("\n"),
    );
  });

  test("writes an overridden line exactly as the overlay spelled it (escapes kept)", () => {
    const merged = mergeProperties("motd=old\n", "motd = \\u00A7bHello\\:world\n");
    expect(merged).toBe("motd = \\u00A7bHello\\:world\n");
  });

  test("is a no-op for equal values, keeping the base spelling", () => {
    expect(mergeProperties("a = 1\n", "a=1\n")).toBe("a = 1\n");
  });

  test("last duplicate in either file is the effective one", () => {
    const merged = mergeProperties("a=1\nb=2\na=3\n", "b=x\nb=y\n");
    expect(getProperties(merged)).toEqual({ a: "3", b: "y" });
  });

  test("handles files without a trailing newline, CRLF files and an empty base", () => {
    expect(mergeProperties("a=1", "b=2")).toBe("a=1\nb=2");
    expect(mergeProperties("a=1\r\nb=2\r\n", "c=3\n")).toBe("a=1\r\nb=2\r\nc=3\r\n");
    expect(getProperties(mergeProperties("", "a=1\n"))).toEqual({ a: "1" });
  });

  test("three layers: later layers win, earlier keys survive", () => {
    const base = "server-port=%PORT%\nonline-mode=false\n";
    const platform = "online-mode=true\nspawn-protection=0\n";
    const group = "online-mode=false\nmax-players=%MAX_PLAYERS%\n";
    const merged = getProperties(mergeProperties(mergeProperties(base, platform), group));
    expect(merged).toEqual({
      "server-port": "%PORT%",
      "online-mode": "false",
      "spawn-protection": "0",
      "max-players": "%MAX_PLAYERS%",
    });
  });
});
