import { platformBaseTemplateName } from "./platform-format.ts";

/** Where a layer of the chain comes from (the plan records it next to each layer). */
export type TemplateSource = "base" | "platform-base" | "group" | "user";

export interface ChainLayer {
  readonly name: string;
  readonly source: TemplateSource;
}

export interface ChainInput {
  readonly groupName: string;
  readonly platform: string;
  /** The group's own `templates` list, applied after the group layer in this order. */
  readonly userTemplates: readonly string[];
  /** Names of the templates that exist right now. */
  readonly existing: ReadonlySet<string>;
}

export interface ResolvedChain {
  /** Layers to apply, lowest first. */
  readonly layers: readonly ChainLayer[];
  /** Layers the chain names but that do not exist; the caller logs them, the plan does not fail. */
  readonly skipped: readonly ChainLayer[];
}

/**
 * The composition chain `base → base-<format> → <group> → user templates`. A name that appears twice
 * keeps its first position, so a user template cannot reorder the fixed layers below it.
 */
export function resolveTemplateChain(input: ChainInput): ResolvedChain {
  const candidates: ChainLayer[] = [
    { name: "base", source: "base" },
    { name: platformBaseTemplateName(input.platform), source: "platform-base" },
    { name: input.groupName, source: "group" },
    ...input.userTemplates.map((name): ChainLayer => ({ name, source: "user" })),
  ];

  const seen = new Set<string>();
  const layers: ChainLayer[] = [];
  const skipped: ChainLayer[] = [];
  for (const layer of candidates) {
    if (seen.has(layer.name)) continue;
    seen.add(layer.name);
    (input.existing.has(layer.name) ? layers : skipped).push(layer);
  }
  return { layers, skipped };
}
