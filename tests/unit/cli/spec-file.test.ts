import { describe, expect, test } from "bun:test";
import { CliError } from "../../../src/cli/errors.ts";
import { checkSpec, parseSpecText } from "../../../src/cli/spec-file.ts";
import { GroupCreateSchema, GroupPatchSchema } from "../../../src/core/groups/group-schema.ts";

function failure(fn: () => void): CliError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error("expected a CliError");
}

describe("-f files", () => {
  test("YAML and JSON both read", () => {
    expect(parseSpecText("name: lobby\nmaxInstances: 3\n", "g.yml").value).toEqual({
      name: "lobby",
      maxInstances: 3,
    });
    expect(parseSpecText('{"name": "lobby"}', "g.json").value).toEqual({ name: "lobby" });
  });

  test("broken YAML names file, line and column", () => {
    const err = failure(() => parseSpecText("name: lobby\ntemplates: [a, b\nmax: 1\n", "group.yml"));
    expect(err.message).toMatch(/^group\.yml:\d+:\d+: invalid YAML: /);
    expect(err.exitCode).toBe(1);
  });

  test("a top level that is not a mapping is refused", () => {
    expect(failure(() => parseSpecText("- a\n- b\n", "g.yml")).message).toContain(
      "g.yml:1: expected a mapping",
    );
  });

  test("schema problems point at the line of the field", () => {
    const spec = parseSpecText(
      "name: lobby\nplatform: PAPER\nmaxInstances: ten\nmaxPlayrs: 5\n",
      "group.yml",
    );
    const err = failure(() => checkSpec(spec, GroupCreateSchema));
    const all = [err.message, err.hint ?? ""].join("\n");
    expect(all).toContain('group.yml:3: maxInstances: expected an integer from 0 to 10000, got "ten"');
    expect(all).toContain("group.yml:4: maxPlayrs: unknown field");
  });

  test("a missing required field and valid documents", () => {
    const noName = parseSpecText("platform: PAPER\n", "g.yml");
    expect(failure(() => checkSpec(noName, GroupCreateSchema)).message).toContain("name: required");
    checkSpec(parseSpecText("name: lobby\n", "g.yml"), GroupCreateSchema);
    checkSpec(parseSpecText("maxInstances: 4\n", "p.yml"), GroupPatchSchema);
  });
});
