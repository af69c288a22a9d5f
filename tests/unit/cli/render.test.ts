import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { CliError } from "../../../src/cli/errors.ts";
import { type Output, parseFormat, printDone, printItem, printList } from "../../../src/cli/output/render.ts";
import { makeStyle } from "../../../src/cli/output/style.ts";
import type { Column } from "../../../src/cli/output/table.ts";

function capture(format: Output["format"], headers = true) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out: Output = {
    format,
    headers,
    style: makeStyle(false),
    print: (t) => stdout.push(t),
    note: (t) => stderr.push(t),
  };
  return { out, stdout, stderr };
}

interface Row {
  name: string;
  max: number;
}
const rows: Row[] = [{ name: "lobby", max: 3 }];
const columns: Column<Row>[] = [
  { header: "name", value: (r) => r.name },
  { header: "max", value: (r) => r.max },
];

describe("output formats", () => {
  test("-o json and -o yaml print the items themselves", () => {
    const json = capture("json");
    printList(json.out, rows, columns, { what: "group" });
    expect(JSON.parse(json.stdout.join("\n"))).toEqual(rows);
    const yaml = capture("yaml");
    printList(yaml.out, rows, columns, { what: "group" });
    expect(parse(yaml.stdout.join("\n"))).toEqual(rows);
  });

  test("-o name prints kind/name per line", () => {
    const c = capture("name");
    printList(c.out, rows, columns, { what: "group", name: (r) => r.name });
    expect(c.stdout).toEqual(["group/lobby"]);
  });

  test("an empty list says so on stderr and leaves stdout empty", () => {
    const c = capture("table");
    printList(c.out, [] as Row[], columns, { what: "crash", plural: "crashes" });
    expect(c.stdout).toEqual([]);
    expect(c.stderr).toEqual(["No crashes found."]);
    const j = capture("json");
    printList(j.out, [] as Row[], columns, { what: "crash" });
    expect(j.stdout).toEqual(["[]"]);
  });

  test("changes print a sentence for people and the object for scripts", () => {
    const t = capture("table");
    printDone(t.out, 'group "lobby" created', { name: "lobby" });
    expect(t.stdout).toEqual(['group "lobby" created']);
    const j = capture("json");
    printDone(j.out, 'group "lobby" created', { name: "lobby" });
    expect(JSON.parse(j.stdout[0]!)).toEqual({ name: "lobby" });
  });

  test("single objects are YAML for people", () => {
    const c = capture("table");
    printItem(c.out, { name: "lobby", templates: ["a"] });
    expect(c.stdout[0]).toBe("name: lobby\ntemplates:\n  - a");
  });

  test("unknown formats are usage errors", () => {
    expect(parseFormat(undefined)).toBe("table");
    expect(parseFormat("JSON")).toBe("json");
    expect(() => parseFormat("xml")).toThrow(CliError);
  });
});
