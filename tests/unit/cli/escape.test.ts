import { describe, expect, test } from "bun:test";
import { ApiError, explain } from "../../../src/cli/errors.ts";
import { escapeControl } from "../../../src/cli/output/escape.ts";
import { cellText } from "../../../src/cli/output/table.ts";

// biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe("prexorctl never prints raw control characters from the server", () => {
  const hostile = "evil\u001b]0;pwned\u0007\u001b[31mred\u009bname";

  test("escapes ESC, BEL, DEL and C1 controls visibly", () => {
    expect(escapeControl("a\u001bb\u0007c\u007fd\u009be")).toBe("a\\x1bb\\x07c\\x7fd\\x9be");
    expect(escapeControl("plain text, ünïcode")).toBe("plain text, ünïcode");
  });

  test("table cells", () => {
    expect(cellText(hostile)).not.toMatch(RAW_CONTROL);
    expect(cellText("two\nlines")).toBe("two lines");
  });

  test("error messages and details", () => {
    const err = new ApiError(422, "VALIDATION_ERROR", hostile, "POST", "/p", "r1", { path: hostile });
    for (const line of explain(err).lines) expect(line).not.toMatch(RAW_CONTROL);
    expect(explain(err).lines[0]).toContain("\\x1b");
  });
});
