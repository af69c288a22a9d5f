import { Value } from "@sinclair/typebox/value";
import { GroupCreateSchema, type GroupSpec } from "../../core/groups/group-schema.ts";
import type { GroupDoc } from "./group-service.ts";

export type ResolvedGroup = GroupSpec & { inheritanceChain: string[] };

/** A parent chain longer than this is cut (the rules refuse cycles; this only bounds a corrupt store). */
const MAX_DEPTH = 10;

/**
 * Schema defaults, computed once: building them per group costs ~40 µs, which a tick over 10,000
 * groups would pay every interval. Object and array values are copied per use so no two groups
 * share a mutable default.
 */
let cachedDefaults: Record<string, unknown> | undefined;
function defaultsFor(name: string): Record<string, unknown> {
  cachedDefaults ??= Value.Default(GroupCreateSchema, { name: "" }) as Record<string, unknown>;
  const fresh: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(cachedDefaults)) {
    fresh[key] = Array.isArray(value)
      ? [...value]
      : value && typeof value === "object"
        ? { ...value }
        : value;
  }
  fresh.name = name;
  return fresh;
}

function specOf(doc: GroupDoc): Record<string, unknown> {
  const { _id, _rev: _r, _fence: _f, createdAt: _c, updatedAt: _u, ...fields } = doc;
  return { name: _id, ...fields };
}

/** The group's documents from the root ancestor down to the group itself. */
export function chainOf(doc: GroupDoc, lookup: (name: string) => GroupDoc | null | undefined): GroupDoc[] {
  const chain: GroupDoc[] = [];
  let current: GroupDoc | null | undefined = doc;
  while (current && chain.length <= MAX_DEPTH) {
    chain.unshift(current);
    current = current.parent ? lookup(current.parent) : null;
  }
  return chain;
}

/**
 * Merges a parent chain root first, the child overriding: a non-empty array replaces, objects merge
 * key by key, and a scalar overrides unless it merely repeats the schema default (so a child that
 * never set a field inherits its parent's value).
 */
export function mergeChain(name: string, chain: readonly GroupDoc[]): ResolvedGroup {
  const defaults = defaultsFor(name);
  let merged: Record<string, unknown> = { ...defaults };
  for (const doc of chain) {
    const next: Record<string, unknown> = { ...merged };
    for (const [key, value] of Object.entries(specOf(doc))) {
      const inherited = merged[key];
      if (Array.isArray(value)) next[key] = value.length > 0 ? value : inherited;
      else if (value && typeof value === "object") next[key] = { ...(inherited as object), ...value };
      else if (value !== defaults[key] || inherited === undefined) next[key] = value;
    }
    merged = next;
  }
  return {
    ...(merged as GroupSpec),
    name,
    parent: chain[chain.length - 1]?.parent ?? null,
    inheritanceChain: chain.map((d) => d._id),
  };
}

/** Every group resolved from one read of the collection. */
export function resolveAll(docs: readonly GroupDoc[]): ResolvedGroup[] {
  const byName = new Map(docs.map((d) => [d._id, d]));
  return docs.map((doc) =>
    mergeChain(
      doc._id,
      chainOf(doc, (name) => byName.get(name)),
    ),
  );
}
