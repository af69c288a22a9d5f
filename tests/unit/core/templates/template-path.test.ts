import { describe, expect, test } from "bun:test";
import { isAppError } from "../../../../src/core/errors.ts";
import {
  isProtectedPath,
  isValidTemplatePath,
  normalizeTemplatePath,
} from "../../../../src/core/templates/template-path.ts";

function rejection(path: string): unknown {
  try {
    normalizeTemplatePath(path);
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${JSON.stringify(path)} to be rejected`);
}

describe("normalizeTemplatePath", () => {
  test.each([
    ["server.properties", "server.properties"],
    ["plugins/Foo/config.yml", "plugins/Foo/config.yml"],
    ["./plugins//Foo/./config.yml", "plugins/Foo/config.yml"],
    ["world/region/", "world/region"],
    ["a..b/c...d", "a..b/c...d"],
    [".hidden/..ok", ".hidden/..ok"],
  ])("normalizes %p to %p", (raw, expected) => {
    expect(normalizeTemplatePath(raw)).toBe(expected);
  });

  test.each([
    ["", "empty"],
    ["/etc/passwd", "absolute path"],
    ["../outside", "'..'"],
    ["plugins/../../etc/passwd", "'..'"],
    ["plugins/..", "'..'"],
    ["plugins\\evil.jar", "backslash"],
    ["..\\..\\windows", "backslash"],
    ["C:/Windows/system32", "drive-letter"],
    ["ok\0.txt", "NUL"],
    ["./", "names no file"],
    [".", "names no file"],
  ])("rejects %p (%s)", (raw, reason) => {
    const error = rejection(raw);
    expect(isAppError(error, "INVALID_ARGUMENT")).toBe(true);
    expect((error as Error).message).toContain(reason);
  });

  test("isValidTemplatePath mirrors the validator without throwing", () => {
    expect(isValidTemplatePath("plugins/a.jar")).toBe(true);
    expect(isValidTemplatePath("../a.jar")).toBe(false);
  });
});

describe("isProtectedPath", () => {
  const guarded = ["world", "plugins/LuckPerms/config.yml"];
  test("covers the path itself and everything below a directory", () => {
    expect(isProtectedPath("world", guarded)).toBe(true);
    expect(isProtectedPath("world/region/r.0.0.mca", guarded)).toBe(true);
    expect(isProtectedPath("plugins/LuckPerms/config.yml", guarded)).toBe(true);
  });
  test("does not cover siblings that merely share a prefix", () => {
    expect(isProtectedPath("world_nether/level.dat", guarded)).toBe(false);
    expect(isProtectedPath("plugins/LuckPerms/other.yml", guarded)).toBe(false);
  });
  test("compares normalized spellings", () => {
    expect(isProtectedPath("./world//level.dat", ["world/"])).toBe(true);
  });
});
