import { parse, stringify } from "smol-toml";
import { deepMerge, isPlainObject } from "./deep-merge.ts";
import { stripBom } from "../text-content.ts";

/**
 * Deep-merges two TOML documents (tables merge, arrays and arrays of tables are replaced); undefined when
 * either side does not parse. Comments do not survive: smol-toml has no document model, and these files
 * are generated per instance, not edited.
 */
export function mergeToml(baseText: string, overlayText: string): string | undefined {
  let base: unknown;
  let overlay: unknown;
  try {
    base = parse(stripBom(baseText));
    overlay = parse(stripBom(overlayText));
  } catch {
    return undefined;
  }
  const merged = deepMerge(base, overlay);
  if (!isPlainObject(merged)) return undefined;
  const text = stringify(merged);
  return text.endsWith("\n") ? text : `${text}\n`;
}
