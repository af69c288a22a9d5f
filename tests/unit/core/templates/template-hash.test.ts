import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { isAppError } from "../../../../src/core/errors.ts";
import type { TemplateFile } from "../../../../src/core/templates/template-file.ts";
import {
  compareTemplatePaths,
  hashTemplateFiles,
  templateSizeBytes,
} from "../../../../src/core/templates/template-hash.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const file = (path: string, content: string | Uint8Array): TemplateFile => ({
  path,
  bytes: typeof content === "string" ? encode(content) : content,
});

const lobby: TemplateFile[] = [
  file("server.properties", "server-port=%PORT%\nmax-players=100\n"),
  file("plugins/LobbyCore.jar", new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 1, 2])),
  file("plugins/LobbyCore/config.yml", "spawn:\n  world: lobby\n"),
];

describe("hashTemplateFiles", () => {
  test("is a 64-hex SHA-256 and the empty template hashes to the empty string", () => {
    expect(hashTemplateFiles(lobby)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashTemplateFiles([])).toBe("");
  });

  test("matches an independent computation of the framed, path-sorted stream", () => {
    const files = [file("b.txt", "B"), file("a.txt", "AA")];
    const expected = createHash("sha256");
    for (const [path, content] of [
      ["a.txt", "AA"],
      ["b.txt", "B"],
    ] as const) {
      const length = Buffer.alloc(8);
      length.writeBigUInt64BE(BigInt(content.length));
      expected
        .update(path)
        .update(Buffer.from([0]))
        .update(length)
        .update(content);
    }
    expect(hashTemplateFiles(files)).toBe(expected.digest("hex"));
  });

  test("golden value stays put (cache keys and stored versions depend on it)", () => {
    expect(hashTemplateFiles([file("eula.txt", "eula=true\n"), file("server.properties", "motd=hi\n")])).toBe(
      "8e8f3b0bca0da23a09821e37d880a39069d65cc6f26d9baf09df49b111ad8bf6",
    );
  });

  test("does not depend on input order", () => {
    const reversed = [...lobby].reverse();
    const rotated = [lobby[1]!, lobby[2]!, lobby[0]!];
    expect(hashTemplateFiles(reversed)).toBe(hashTemplateFiles(lobby));
    expect(hashTemplateFiles(rotated)).toBe(hashTemplateFiles(lobby));
  });

  test("does not depend on how an equivalent path is spelled", () => {
    const respelled = lobby.map((f) => ({ ...f, path: `./${f.path.replace("/", "//")}` }));
    expect(hashTemplateFiles(respelled)).toBe(hashTemplateFiles(lobby));
  });

  test("changes when one byte changes", () => {
    const changed = lobby.map((f, i) =>
      i === 1 ? file(f.path, new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 1, 3])) : f,
    );
    expect(hashTemplateFiles(changed)).not.toBe(hashTemplateFiles(lobby));
  });

  test("changes when a file is renamed, even with identical bytes", () => {
    const renamed = lobby.map((f, i) => (i === 0 ? { ...f, path: "server.properties.bak" } : f));
    expect(hashTemplateFiles(renamed)).not.toBe(hashTemplateFiles(lobby));
  });

  test("changes when a file is added, including an empty one", () => {
    expect(hashTemplateFiles([...lobby, file("empty.txt", "")])).not.toBe(hashTemplateFiles(lobby));
  });

  test("changes when two files swap contents", () => {
    const a = [file("a.yml", "x: 1\n"), file("b.yml", "y: 2\n")];
    const swapped = [file("a.yml", "y: 2\n"), file("b.yml", "x: 1\n")];
    expect(hashTemplateFiles(swapped)).not.toBe(hashTemplateFiles(a));
  });

  test("cannot be fooled by moving bytes across the path/content boundary", () => {
    expect(hashTemplateFiles([file("a.txt", "x")])).not.toBe(hashTemplateFiles([file("a.txtx", "")]));
    expect(hashTemplateFiles([file("a", "b\0"), file("c", "d")])).not.toBe(
      hashTemplateFiles([file("a", "b"), file("c", "\0d")]),
    );
  });

  test("rejects unsafe paths and duplicate paths", () => {
    for (const bad of [[file("../x", "")], [file("/abs", "")], [file("a", "1"), file("./a", "2")]]) {
      let caught: unknown;
      try {
        hashTemplateFiles(bad);
      } catch (error) {
        caught = error;
      }
      expect(isAppError(caught, "INVALID_ARGUMENT")).toBe(true);
    }
  });

  test("sorts by UTF-8 bytes, not UTF-16 units", () => {
    // U+FF5E (3 UTF-8 bytes EF BD 9E) sorts after U+1F600 (F0 9F 98 80) in UTF-16 but before it in UTF-8.
    expect(compareTemplatePaths("\uFF5E", "\u{1F600}")).toBeLessThan(0);
    expect("\uFF5E" < "\u{1F600}").toBe(false);
  });

  test("templateSizeBytes sums the file sizes", () => {
    expect(templateSizeBytes(lobby)).toBe(35 + 8 + 22);
  });
});
