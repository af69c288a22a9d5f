import { stripBom } from "../text-content.ts";
import { deepMerge } from "./deep-merge.ts";

// Keep the base file's indentation so a merged file diffs cleanly against the one it came from.
function indentOf(text: string): string | number {
  const match = /^[{[][ \t]*\r?\n([ \t]+)\S/.exec(text);
  return match?.[1] ?? 2;
}

/** Deep-merges two JSON documents; undefined when either side does not parse. */
export function mergeJson(baseText: string, overlayText: string): string | undefined {
  const baseSource = stripBom(baseText);
  let base: unknown;
  let overlay: unknown;
  try {
    base = JSON.parse(baseSource);
    overlay = JSON.parse(stripBom(overlayText));
  } catch {
    return undefined;
  }
  return `${JSON.stringify(deepMerge(base, overlay), null, indentOf(baseSource))}\n`;
}
