import { decodeText, encodeText } from "../text-content.ts";
import { mergeJson } from "./merge-json.ts";
import { type MergeKind, mergeKindForPath } from "./merge-kind.ts";
import { mergeLines } from "./merge-lines.ts";
import { mergeProperties } from "./merge-properties.ts";
import { mergeToml } from "./merge-toml.ts";
import { mergeYaml } from "./merge-yaml.ts";

export interface FileMergeOutcome {
  readonly bytes: Uint8Array;
  readonly kind: MergeKind;
  /** Set when a mergeable file could not be merged and the higher layer's copy was taken whole. */
  readonly fallback?: "binary" | "unparseable";
}

const TEXT_MERGERS: Readonly<
  Record<Exclude<MergeKind, "replace">, (b: string, o: string) => string | undefined>
> = {
  yaml: mergeYaml,
  json: mergeJson,
  toml: mergeToml,
  properties: mergeProperties,
  lines: mergeLines,
};

/**
 * Combines the copy of `path` from a lower layer with the copy from a higher layer. When a config file
 * cannot be merged (binary content, a syntax error on either side) the higher layer wins whole: it is
 * what the operator wrote last, and a broken lower layer must not block every instance built on it.
 */
export function mergeFileContents(path: string, lower: Uint8Array, higher: Uint8Array): FileMergeOutcome {
  const kind = mergeKindForPath(path);
  if (kind === "replace") return { bytes: higher, kind };
  const lowerText = decodeText(lower);
  const higherText = decodeText(higher);
  if (lowerText === undefined || higherText === undefined) return { bytes: higher, kind, fallback: "binary" };
  const merged = TEXT_MERGERS[kind](lowerText, higherText);
  if (merged === undefined) return { bytes: higher, kind, fallback: "unparseable" };
  return { bytes: encodeText(merged), kind };
}
