import { describe, expect, test } from "bun:test";
import { isAppError } from "../../../../src/core/errors.ts";
import { canonicalJson } from "../../../../src/core/plan/canonical-json.ts";

describe("canonicalJson", () => {
  test("sorts keys at every depth and writes no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x" } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  test("is independent of key insertion order", () => {
    expect(canonicalJson({ port: 1, id: "a", env: { B: "2", A: "1" } })).toBe(
      canonicalJson({ env: { A: "1", B: "2" }, id: "a", port: 1 }),
    );
  });

  test("drops undefined properties; undefined in arrays becomes null", () => {
    expect(canonicalJson({ a: undefined, b: null, c: [undefined, 1] })).toBe('{"b":null,"c":[null,1]}');
  });

  test("writes numbers in shortest round-trip form", () => {
    expect(canonicalJson([1.0, -0, 0.1, 1e21, 1.5e-7, 30000])).toBe("[1,0,0.1,1e+21,1.5e-7,30000]");
  });

  test("escapes strings as JSON and keeps non-ASCII as is", () => {
    expect(canonicalJson(['quote " backslash \\ newline \n', "§a Grüße"])).toBe(
      '["quote \\" backslash \\\\ newline \\n","§a Grüße"]',
    );
  });

  test("accepts null-prototype objects", () => {
    const bare = Object.assign(Object.create(null), { b: 2, a: 1 });
    expect(canonicalJson(bare)).toBe('{"a":1,"b":2}');
  });

  test.each([
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["bigint", 1n],
    ["Date", new Date(0)],
    ["Map", new Map()],
    ["Uint8Array", new Uint8Array(1)],
    ["function", () => 1],
    ["undefined at top level", undefined],
  ])("refuses %s", (_label, value) => {
    let caught: unknown;
    try {
      canonicalJson({ nested: [value] });
      if (value === undefined) canonicalJson(value);
    } catch (error) {
      caught = error;
    }
    expect(isAppError(caught, "INVALID_ARGUMENT")).toBe(true);
  });
});
