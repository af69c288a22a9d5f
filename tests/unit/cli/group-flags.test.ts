import { describe, expect, test } from "bun:test";
import { fieldsFromFlags, normalizeEnums } from "../../../src/cli/commands/group.ts";
import type { CliError } from "../../../src/cli/errors.ts";

describe("group fields from flags", () => {
  test("only the flags given become fields, with their API names and types", () => {
    expect(fieldsFromFlags({ max: "6", memory: "2048", templates: "base,lobby", parent: "" })).toEqual({
      maxInstances: 6,
      memoryMb: 2048,
      templates: ["base", "lobby"],
      parent: null,
    });
    expect(fieldsFromFlags({})).toEqual({});
  });

  test("bad numbers are usage errors naming the flag", () => {
    expect(() => fieldsFromFlags({ "port-end": "70000" })).toThrow(
      "--port-end takes an integer from 1 to 65535",
    );
    try {
      fieldsFromFlags({ min: "-1" });
    } catch (err) {
      expect((err as CliError).exitCode).toBe(2);
    }
  });

  test("enum-like fields are taken in any case", () => {
    expect(normalizeEnums({ platform: "paper", scalingMode: "static", name: "lobby" })).toEqual({
      platform: "PAPER",
      scalingMode: "STATIC",
      name: "lobby",
    });
  });
});
