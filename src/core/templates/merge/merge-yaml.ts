import { type Document, parseDocument } from "yaml";
import { stripBom } from "../text-content.ts";

/**
 * Deep-merges two YAML documents into the base document, so the base's comments, key order and styles
 * survive. Values travel as plain data (`toJS`), which resolves the overlay's anchors and aliases instead
 * of moving nodes between documents. Maps are read with their real key types (`mapAsMap`), so a numeric
 * key such as `1:` updates the existing entry rather than adding a string twin.
 *
 * Undefined when either side does not parse or is not a map at the top: a merge has no meaning there.
 */
export function mergeYaml(baseText: string, overlayText: string): string | undefined {
  // Big integers (Discord channel ids and the like) must survive the round trip digit for digit.
  const base = parseDocument(stripBom(baseText), { intAsBigInt: true });
  const overlay = parseDocument(stripBom(overlayText), { intAsBigInt: true });
  if (base.errors.length > 0 || overlay.errors.length > 0) return undefined;

  const baseData: unknown = base.toJS({ mapAsMap: true });
  const overlayData: unknown = overlay.toJS({ mapAsMap: true });
  if (!(baseData instanceof Map) || !(overlayData instanceof Map)) return undefined;

  mergeInto(base, [], baseData, overlayData);
  // lineWidth 0: never fold long scalars (MOTDs, messages) into multi-line forms the server may misread.
  return base.toString({ lineWidth: 0 });
}

function mergeInto(
  doc: Document,
  path: unknown[],
  base: Map<unknown, unknown>,
  overlay: Map<unknown, unknown>,
): void {
  for (const [key, value] of overlay) {
    const current = base.get(key);
    if (current instanceof Map && value instanceof Map) {
      mergeInto(doc, [...path, key], current, value);
    } else {
      doc.setIn([...path, key], value);
    }
  }
}
