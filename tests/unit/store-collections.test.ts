import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { COLLECTIONS } from "../../src/store/collections.ts";

/**
 * Collection names come from one registry (issue 14 item 6): every collection the controller opens
 * is declared in src/store/collections.ts, so each adapter creates it (and its indexes) at open and
 * a backup lists it. Names are found where code opens a collection: a string literal, or a constant
 * whose value is one.
 */
const SRC = join(import.meta.dir, "../../src");

function sources(): { path: string; text: string }[] {
  return readdirSync(SRC, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => !relative(SRC, p).startsWith("proto/"))
    .map((p) => ({ path: relative(SRC, p), text: readFileSync(p, "utf8") }));
}

/** `export const NODES = "nodes" satisfies CollectionName;`: a collection named once, checked by tsc. */
const NAME_CONSTANT = /const ([A-Z][A-Z0-9_]*) = "([a-z][a-z0-9_]*)" satisfies CollectionName;/g;

describe("collection registry", () => {
  test("every collection src opens is declared", () => {
    const files = sources();
    const constants = new Map<string, string>();
    for (const { text } of files) {
      for (const m of text.matchAll(NAME_CONSTANT)) constants.set(m[1]!, m[2]!);
    }
    const opened = new Set<string>();
    const unresolved: string[] = [];
    for (const { path, text } of files) {
      for (const m of text.matchAll(
        /\.collection(?:<[^>]*>)?\(\s*(?:"([a-z][a-z0-9_]*)"|([A-Z][A-Z0-9_]*))\s*\)/g,
      )) {
        const name = m[1] ?? constants.get(m[2]!);
        if (name === undefined) unresolved.push(`src/${path}: ${m[2]}`);
        else opened.add(name);
      }
    }
    expect(unresolved).toEqual([]);
    expect([...opened].filter((name) => !Object.hasOwn(COLLECTIONS, name)).sort()).toEqual([]);
    expect(opened.size).toBeGreaterThan(10);
  });

  test("code outside the store names a collection by its constant, and each name has one constant", () => {
    const literals: string[] = [];
    const owners = new Map<string, string[]>();
    for (const { path, text } of sources()) {
      for (const m of text.matchAll(NAME_CONSTANT)) owners.set(m[2]!, [...(owners.get(m[2]!) ?? []), path]);
      if (path.startsWith("store/")) continue;
      for (const m of text.matchAll(/\.collection(?:<[^>]*>)?\(\s*["'`]([^"'`]*)/g))
        literals.push(`src/${path}: "${m[1]}"`);
    }
    expect(literals).toEqual([]);
    expect([...owners].filter(([, where]) => where.length > 1)).toEqual([]);
    expect(owners.size).toBeGreaterThan(20);
  });
});
