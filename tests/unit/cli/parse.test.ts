import { describe, expect, test } from "bun:test";
import { CliError } from "../../../src/cli/errors.ts";
import {
  age,
  parseDuration,
  parseInstant,
  parseInteger,
  parseList,
  parseSwitch,
} from "../../../src/cli/parse.ts";

describe("flag values", () => {
  test("integers are checked against their range and name the flag", () => {
    expect(parseInteger("5", "--max", { min: 0 })).toBe(5);
    expect(parseInteger(undefined, "--max")).toBeUndefined();
    expect(() => parseInteger("five", "--max")).toThrow('--max takes an integer (got "five")');
    expect(() => parseInteger("1.5", "--max")).toThrow(CliError);
    expect(() => parseInteger("70000", "--port-end", { min: 1, max: 65535 })).toThrow("from 1 to 65535");
  });

  test("durations accept units and bare seconds", () => {
    expect(parseDuration("90", "--t")).toBe(90_000);
    expect(parseDuration("1h30m", "--t")).toBe(5_400_000);
    expect(parseDuration("250ms", "--t")).toBe(250);
    expect(parseDuration("2d", "--t")).toBe(172_800_000);
    expect(() => parseDuration("soon", "--ttl")).toThrow("--ttl takes a duration");
    expect(() => parseDuration("1h junk", "--ttl")).toThrow(CliError);
  });

  test("instants are ISO times or durations ago", () => {
    const now = Date.parse("2026-01-02T00:00:00Z");
    expect(parseInstant("1h", "--since", now)).toBe("2026-01-01T23:00:00.000Z");
    expect(parseInstant("2026-01-01T10:00:00Z", "--since", now)).toBe("2026-01-01T10:00:00.000Z");
    expect(() => parseInstant("2026-13-45", "--since", now)).toThrow("not a valid time");
  });

  test("lists, switches and ages", () => {
    expect(parseList("a, b,,c")).toEqual(["a", "b", "c"]);
    expect(parseList("")).toEqual([]);
    expect(parseSwitch("ON", "x")).toBe(true);
    expect(parseSwitch("false", "x")).toBe(false);
    expect(() => parseSwitch("maybe", "maintenance")).toThrow("maintenance takes on or off");
    const now = Date.parse("2026-01-02T00:00:00Z");
    expect(age("2026-01-01T23:58:00Z", now)).toBe("2m");
    expect(age(now - 3 * 86_400_000, now)).toBe("3d");
    expect(age(null, now)).toBe("-");
  });
});
