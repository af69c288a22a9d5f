import type { PropertiesNode, PropertyNode } from "properties-file/parser";
import { Properties } from "properties-file/parser";

/**
 * Key-level merge of `.properties` files: overlay keys overwrite, every other base key stays. The base
 * file is the skeleton, so its comments, blank lines and key order survive; an overridden key keeps its
 * place but takes the overlay's line exactly as written (escapes and separator included). Keys only the
 * overlay has are appended in the overlay's order with the comment lines directly above them.
 */
export function mergeProperties(baseText: string, overlayText: string): string {
  const base = new Properties(baseText);
  const overlay = new Properties(overlayText);
  const overlayNodes = effectiveNodes(overlay);
  const baseNodes = effectiveNodes(base);

  const out: PropertiesNode[] = base.nodes.map((node) => {
    if (node.type !== "property") return node;
    const replacement = overlayNodes.get(node.key);
    // Only the effective (last) occurrence of a duplicated base key carries its value.
    if (replacement === undefined || baseNodes.get(node.key) !== node) return node;
    return replacement.value === node.value ? node : replacement;
  });

  const appended: PropertiesNode[] = [];
  for (const [key, node] of overlayNodes) {
    if (baseNodes.has(key)) continue;
    appended.push(...overlay.getLeadingNodes(key).filter((lead) => lead.type === "comment"), node);
  }

  // A file ending in a line break parses with a trailing empty node; new keys go before it.
  const last = out.at(-1);
  const endsWithBreak = last?.type === "blank" && last.rawLine === "";
  if (endsWithBreak) out.splice(out.length - 1, 0, ...appended);
  else out.push(...appended);

  const lines = out.flatMap((node) => (node.type === "property" ? node.rawLines : [node.rawLine]));
  return (base.hasBom ? "\uFEFF" : "") + lines.join(base.eolCharacter);
}

function effectiveNodes(properties: Properties): Map<string, PropertyNode> {
  const nodes = new Map<string, PropertyNode>();
  for (const node of properties.getProperties()) {
    if (!nodes.has(node.key)) nodes.set(node.key, properties.getEffectiveProperty(node.key)!);
  }
  return nodes;
}
