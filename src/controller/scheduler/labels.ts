/** Node label selectors of `nodeAffinity` / `nodeAntiAffinity`: `key=value` (exact) or `key` (presence). */
export interface LabelSelector {
  readonly text: string;
  readonly key: string;
  /** Undefined means presence of the key is enough. */
  readonly value: string | undefined;
}

export function parseSelector(text: string): LabelSelector {
  const eq = text.indexOf("=");
  if (eq < 0) return { text, key: text.trim(), value: undefined };
  return { text, key: text.slice(0, eq).trim(), value: text.slice(eq + 1).trim() };
}

export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  const actual = labels[selector.key];
  if (actual === undefined) return false;
  return selector.value === undefined || actual === selector.value;
}

/** The first affinity selector the node lacks, if any. */
export function missingAffinity(
  selectors: readonly LabelSelector[],
  labels: Readonly<Record<string, string>>,
): LabelSelector | undefined {
  for (const s of selectors) if (!selectorMatches(s, labels)) return s;
  return undefined;
}

/** The first anti-affinity selector the node carries, if any. */
export function matchedAntiAffinity(
  selectors: readonly LabelSelector[],
  labels: Readonly<Record<string, string>>,
): LabelSelector | undefined {
  for (const s of selectors) if (selectorMatches(s, labels)) return s;
  return undefined;
}

/** A spread constraint written as `key=value` spreads over the key only. */
export function spreadKey(constraint: string): string {
  const eq = constraint.indexOf("=");
  return (eq < 0 ? constraint : constraint.slice(0, eq)).trim();
}
