import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/**
 * Source rules for failures (issue 14 item 1): errors are logged as errors, so pino's `err`
 * serializer keeps the type and the stack, and a failure swallowed on purpose says why next to the
 * catch. Generated code is exempt.
 */
const SRC = join(import.meta.dir, "../../../src");
/** a promise's failure replaced by a fixed value */
const SWALLOW = /\.catch\(\(\) => (\{\}|undefined|null|false|true|\[\][^)]*)\)/;

function sources(): { path: string; lines: string[] }[] {
  return readdirSync(SRC, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => !relative(SRC, p).startsWith("proto/"))
    .map((p) => ({ path: relative(SRC, p), lines: readFileSync(p, "utf8").split("\n") }));
}

describe("error logging", () => {
  test("no log call passes an error's message instead of the error", () => {
    const found: string[] = [];
    for (const { path, lines } of sources()) {
      lines.forEach((line, i) => {
        if (/\berr: \(?\w+( as Error\))?\)?\.message\b/.test(line))
          found.push(`src/${path}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });

  test("every catch that swallows a failure says why", () => {
    const found: string[] = [];
    for (const { path, lines } of sources()) {
      lines.forEach((line, i) => {
        const promise = SWALLOW.test(line);
        const block =
          (/\bcatch \{\s*(\}|$)/.test(line) || /\bcatch \(\w+\) \{\s*\}/.test(line)) &&
          !/^\s*throw\b/.test(lines[i + 1] ?? "");
        if (!promise && !block) return;
        // One comment may cover a run of consecutive swallowing calls, or sit above the statement a
        // chained `.catch` ends: look above the whole run and the chain's continuation lines.
        let top = i;
        while (top > 0 && (SWALLOW.test(lines[top - 1] ?? "") || /^\s*\./.test(lines[top] ?? ""))) top--;
        const near = [...lines.slice(Math.max(0, top - 2), i + 1), block ? lines[i + 1] : ""].join("\n");
        if (!/\/\/|\/\*|^\s*\*/m.test(near)) found.push(`src/${path}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });
});
