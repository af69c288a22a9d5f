import { parse, stringify } from "smol-toml";
import { stripBom } from "../text-content.ts";
import { deepMerge, isPlainObject } from "./deep-merge.ts";

/**
 * Deep-merges two TOML documents (tables merge, arrays and arrays of tables are replaced); undefined when
 * either side does not parse. Comments do not survive: smol-toml has no document model, and these files
 * are generated per instance, not edited.
 */
export function mergeToml(baseText: string, overlayText: string): string | undefined {
  let base: unknown;
  let overlay: unknown;
  try {
    // Integers beyond 2^53 become bigint so they are written back digit for digit.
    base = parse(stripBom(baseText), { integersAsBigInt: "asNeeded" });
    overlay = parse(stripBom(overlayText), { integersAsBigInt: "asNeeded" });
  } catch {
    // not valid TOML: undefined tells the caller to fall back to replacing the file
    return undefined;
  }
  const merged = deepMerge(base, overlay);
  if (!isPlainObject(merged)) return undefined;
  const text = stringify(merged);
  return text.endsWith("\n") ? text : `${text}\n`;
}
