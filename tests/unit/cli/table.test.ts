import { describe, expect, test } from "bun:test";
import { colorWanted, makeStyle } from "../../../src/cli/output/style.ts";
import { type Column, renderTable } from "../../../src/cli/output/table.ts";

interface Row {
  name: string;
  state: string;
  port: number | null;
}
const rows: Row[] = [
  { name: "lobby-1", state: "RUNNING", port: 30000 },
  { name: "bedwars-12", state: "CRASHED", port: null },
];
const columns: Column<Row>[] = [
  { header: "name", value: (r) => r.name },
  { header: "state", value: (r) => r.state, color: (t, s) => s.state(t) },
  { header: "port", value: (r) => r.port, wide: true },
];
const plain = makeStyle(false);
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

describe("tables", () => {
  test("pad columns to their widest cell with a 3-space gap and no trailing spaces", () => {
    expect(renderTable(rows, columns, { wide: false, headers: true, style: plain })).toBe(
      ["NAME         STATE", "lobby-1      RUNNING", "bedwars-12   CRASHED"].join("\n"),
    );
  });

  test("wide adds the wide columns; missing values print as -", () => {
    const text = renderTable(rows, columns, { wide: true, headers: true, style: plain });
    expect(text.split("\n")[0]).toBe("NAME         STATE     PORT");
    expect(text.split("\n")[2]).toBe("bedwars-12   CRASHED   -");
  });

  test("--no-headers drops the header row", () => {
    expect(
      renderTable(rows, columns, { wide: false, headers: false, style: plain }).split("\n"),
    ).toHaveLength(2);
  });

  test("colour never changes the alignment", () => {
    const colored = renderTable(rows, columns, { wide: true, headers: true, style: makeStyle(true) });
    expect(colored).toContain("\x1b[32mRUNNING\x1b[39m");
    expect(strip(colored)).toBe(renderTable(rows, columns, { wide: true, headers: true, style: plain }));
  });

  test("a cell never breaks a row", () => {
    const text = renderTable([{ name: "a\nb\tc", state: "x", port: 1 }], columns, {
      wide: false,
      headers: false,
      style: plain,
    });
    expect(text).toBe("a b c   x");
  });
});

describe("when to colour", () => {
  test("only on a TTY, never with NO_COLOR, TERM=dumb or --no-color", () => {
    expect(colorWanted({ isTTY: true }, true, {})).toBe(true);
    expect(colorWanted({ isTTY: false }, true, {})).toBe(false);
    expect(colorWanted({ isTTY: true }, true, { NO_COLOR: "1" })).toBe(false);
    expect(colorWanted({ isTTY: true }, true, { TERM: "dumb" })).toBe(false);
    expect(colorWanted({ isTTY: true }, false, {})).toBe(false);
  });
});
