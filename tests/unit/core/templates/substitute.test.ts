import { describe, expect, test } from "bun:test";
import { getProperties } from "properties-file";
import { parse as parseYaml } from "yaml";
import { composeTemplateFiles } from "../../../../src/core/templates/compose-files.ts";
import {
  instanceVariables,
  substituteFileBytes,
  substitutePlaceholders,
  substituteTemplateFiles,
} from "../../../../src/core/templates/substitute.ts";
import { decodeText, isTextContent, stripBom } from "../../../../src/core/templates/text-content.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

const values = instanceVariables({
  instanceId: "lobby-3",
  group: "lobby",
  port: 30002,
  nodeId: "node-eu-1",
  memoryMb: 2048,
});

describe("instanceVariables", () => {
  test("provides every built-in name with spec defaults", () => {
    expect(values).toEqual({
      PORT: "30002",
      INSTANCE_ID: "lobby-3",
      INSTANCE_NAME: "lobby-3",
      GROUP: "lobby",
      NODE_ID: "node-eu-1",
      MEMORY: "2048",
      MAX_PLAYERS: "100",
      MOTD: "PrexorCloud - lobby/lobby-3",
    });
  });

  test("adds resolved variables, but built-ins cannot be overridden by them", () => {
    const withExtras = instanceVariables({
      instanceId: "proxy-1",
      group: "proxy",
      port: 25577,
      nodeId: "n1",
      memoryMb: 512,
      maxPlayers: 500,
      motd: "Welcome",
      forwardingSecret: "s3cret",
      resolved: { PORT: "1", spawn_world: "hub", "region.name": "eu" },
    });
    expect(withExtras.PORT).toBe("25577");
    expect(withExtras.MAX_PLAYERS).toBe("500");
    expect(withExtras.MOTD).toBe("Welcome");
    expect(withExtras.FORWARDING_SECRET).toBe("s3cret");
    expect(withExtras.spawn_world).toBe("hub");
    expect(withExtras["region.name"]).toBe("eu");
  });
});

describe("substitutePlaceholders", () => {
  test("replaces all three syntaxes", () => {
    expect(
      substitutePlaceholders("port=%PORT% id={INSTANCE_ID} group={{GROUP}} g2={{ GROUP }}", values),
    ).toBe("port=30002 id=lobby-3 group=lobby g2=lobby");
  });

  test("leaves unknown placeholders and ordinary braces and percent signs alone", () => {
    const text = 'json={"a":{}} pct=100% %UNKNOWN% {NOPE} {{nope}} {PORT';
    expect(substitutePlaceholders(text, values)).toBe(text);
  });

  test("does not rescan substituted values", () => {
    expect(substitutePlaceholders("motd=%MOTD%", { MOTD: "%PORT% {GROUP}", PORT: "1", GROUP: "g" })).toBe(
      "motd=%PORT% {GROUP}",
    );
  });

  test("honours the selected syntaxes only", () => {
    expect(substitutePlaceholders("%PORT% {PORT} {{PORT}}", values, ["percent"])).toBe(
      "30002 {PORT} {{PORT}}",
    );
    expect(substitutePlaceholders("%PORT% {PORT} {{PORT}}", values, ["double-brace"])).toBe(
      "%PORT% {PORT} 30002",
    );
    expect(substitutePlaceholders("%PORT%", values, [])).toBe("%PORT%");
  });

  test("does not treat object prototype names as variables", () => {
    expect(substitutePlaceholders("{constructor} %toString%", values)).toBe("{constructor} %toString%");
  });
});

describe("text detection", () => {
  test("text is NUL-free valid UTF-8; a BOM is kept for round-tripping", () => {
    expect(isTextContent(encode("motd=Grüße §a\n"))).toBe(true);
    expect(decodeText(encode("\uFEFFa=1"))).toBe("\uFEFFa=1");
    expect(stripBom("\uFEFFa=1")).toBe("a=1");
  });

  test("NUL bytes or invalid UTF-8 mean binary", () => {
    expect(isTextContent(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00]))).toBe(false);
    expect(isTextContent(new Uint8Array([0x70, 0x6f, 0x72, 0x74, 0xff, 0xfe]))).toBe(false);
    expect(isTextContent(new Uint8Array([0xc3]))).toBe(false);
    // UTF-16LE "a=1" has NULs: treated as binary, so it is copied untouched.
    expect(isTextContent(new Uint8Array([0xff, 0xfe, 0x61, 0x00, 0x3d, 0x00, 0x31, 0x00]))).toBe(false);
  });
});

describe("substitution in files", () => {
  test("rewrites text files whatever their extension and never touches binary files", () => {
    // A binary blob that contains the placeholder's bytes must survive byte for byte.
    const binary = new Uint8Array([0x00, ...encode("%PORT%"), 0xff]);
    const latin1 = new Uint8Array([...encode("port=%PORT% "), 0xe9]);
    const files = new Map<string, Uint8Array>([
      ["server.properties", encode("server-port=%PORT%\n")],
      ["start.command", encode("exec java -jar {INSTANCE_ID}.jar\n")],
      ["plugins/Blob.jar", binary],
      ["legacy.txt", latin1],
    ]);
    const out = substituteTemplateFiles(files, values);
    expect(decode(out.get("server.properties"))).toBe("server-port=30002\n");
    expect(decode(out.get("start.command"))).toBe("exec java -jar lobby-3.jar\n");
    expect(out.get("plugins/Blob.jar")).toBe(binary);
    expect(out.get("legacy.txt")).toBe(latin1);
  });

  test("returns the same bytes object when nothing changes", () => {
    const bytes = encode("nothing to see\n");
    expect(substituteFileBytes(bytes, values)).toBe(bytes);
  });
});

describe("composeTemplateFiles", () => {
  test("substitutes before merging, so placeholders that are not valid YAML still merge", () => {
    const layers = [
      {
        name: "base",
        files: [
          { path: "server.properties", bytes: encode("server-port=%PORT%\nmotd=%MOTD%\nmax-players=20\n") },
          {
            path: "plugins/cloud/config.yml",
            bytes: encode("instance: {INSTANCE_ID}\nport: %PORT%\nretries: 3\n"),
          },
        ],
      },
      {
        name: "lobby",
        files: [
          { path: "server.properties", bytes: encode("max-players=%MAX_PLAYERS%\n") },
          { path: "plugins/cloud/config.yml", bytes: encode("group: {{GROUP}}\nretries: 5\n") },
        ],
      },
    ];
    const { files, fallbacks } = composeTemplateFiles(layers, values);
    expect(fallbacks).toEqual([]);
    expect(getProperties(decode(files.get("server.properties")))).toEqual({
      "server-port": "30002",
      motd: "PrexorCloud - lobby/lobby-3",
      "max-players": "100",
    });
    expect(parseYaml(decode(files.get("plugins/cloud/config.yml")))).toEqual({
      instance: "lobby-3",
      port: 30002,
      retries: 5,
      group: "lobby",
    });
  });
});
