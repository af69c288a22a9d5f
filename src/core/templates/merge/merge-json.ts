import { stripBom } from "../text-content.ts";
import { deepMerge } from "./deep-merge.ts";

// Keep the base file's indentation so a merged file diffs cleanly against the one it came from.
function indentOf(text: string): string | number {
  const match = /^[{[][ \t]*\r?\n([ \t]+)\S/.exec(text);
  return match?.[1] ?? 2;
}

/**
 * Parses JSON, or undefined when it is invalid or holds an integer a double cannot represent exactly
 * (such as a 64-bit id): re-serializing would silently change its digits.
 */
function parseExact(text: string): { value: unknown } | undefined {
  let lossy = false;
  try {
    const value: unknown = JSON.parse(text, (_key, item: unknown) => {
      if (typeof item === "number" && Number.isInteger(item) && !Number.isSafeInteger(item)) lossy = true;
      return item;
    });
    return lossy ? undefined : { value };
  } catch {
    // not valid JSON: undefined tells the caller to fall back to replacing the file
    return undefined;
  }
}

/** Deep-merges two JSON documents; undefined when either side cannot be parsed exactly. */
export function mergeJson(baseText: string, overlayText: string): string | undefined {
  const baseSource = stripBom(baseText);
  const base = parseExact(baseSource);
  const overlay = parseExact(stripBom(overlayText));
  if (base === undefined || overlay === undefined) return undefined;
  return `${JSON.stringify(deepMerge(base.value, overlay.value), null, indentOf(baseSource))}\n`;
}
