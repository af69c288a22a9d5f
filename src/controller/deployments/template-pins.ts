import { AppError } from "../../core/errors.ts";
import { resolveTemplateChain } from "../../core/templates/template-chain.ts";
import type { PinnedTemplate } from "./deployment-doc.ts";

/** What pinning needs to know of one template: its versions oldest first and the current one. */
export interface TemplateHistory {
  name: string;
  currentHash: string | null;
  /** oldest first */
  hashes: readonly string[];
}

/**
 * A version as an operator names it: `vN` (the N-th version ever uploaded), `current`/`latest`, a full
 * content hash, or a unique hash prefix of at least 6 characters.
 */
export function resolveVersion(t: TemplateHistory, version: string): PinnedTemplate {
  const unknown = () =>
    new AppError("VALIDATION_ERROR", `template "${t.name}" has no version "${version}"`, {
      template: t.name,
      version,
    });
  const label = (hash: string) => `v${t.hashes.indexOf(hash) + 1}`;
  if (version === "current" || version === "latest") {
    if (!t.currentHash) throw unknown();
    return { hash: t.currentHash, version: label(t.currentHash) };
  }
  const positional = /^v([1-9][0-9]{0,6})$/.exec(version);
  if (positional) {
    const hash = t.hashes[Number(positional[1]) - 1];
    if (hash === undefined) throw unknown();
    return { hash, version: version };
  }
  if (/^[0-9a-f]{6,64}$/.test(version)) {
    const matches = t.hashes.filter((h) => h.startsWith(version));
    if (matches.length === 1) return { hash: matches[0]!, version: label(matches[0]!) };
    if (matches.length > 1)
      throw new AppError("VALIDATION_ERROR", `version "${version}" of "${t.name}" is ambiguous`, {
        template: t.name,
        version,
      });
  }
  throw unknown();
}

/**
 * The templates a revision pins: every layer of the group's chain at its current version, except the
 * ones the request names, which take the version asked for. A pin for a template outside the chain is
 * refused: it would change nothing and the operator would think it had.
 */
export function snapshotTemplates(input: {
  groupName: string;
  platform: string;
  userTemplates: readonly string[];
  templates: readonly TemplateHistory[];
  pins: Readonly<Record<string, string>>;
}): Record<string, PinnedTemplate> {
  const byName = new Map(input.templates.map((t) => [t.name, t]));
  const chain = resolveTemplateChain({
    groupName: input.groupName,
    platform: input.platform,
    userTemplates: input.userTemplates,
    existing: new Set(byName.keys()),
  });
  const inChain = new Set(chain.layers.map((l) => l.name));
  for (const name of Object.keys(input.pins)) {
    if (!inChain.has(name))
      throw new AppError(
        "VALIDATION_ERROR",
        `template "${name}" is not part of group "${input.groupName}"'s composition chain`,
        { template: name },
      );
  }
  const snapshot: Record<string, PinnedTemplate> = {};
  for (const layer of chain.layers) {
    const t = byName.get(layer.name)!;
    const pin = input.pins[layer.name];
    if (pin !== undefined) snapshot[layer.name] = resolveVersion(t, pin);
    else if (t.currentHash)
      snapshot[layer.name] = { hash: t.currentHash, version: `v${t.hashes.indexOf(t.currentHash) + 1}` };
  }
  return snapshot;
}
