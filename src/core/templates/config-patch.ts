import { escapeKey, escapeValue } from "properties-file/escape";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { parseDocument } from "yaml";
import type { PlanConfigPatch } from "../plan/plan-types.ts";
import { mergeProperties } from "./merge/merge-properties.ts";
import { substitutePlaceholders } from "./substitute.ts";
import { stripBom } from "./text-content.ts";

/** How a patched file is read and written, from its extension. */
export type PatchFormat = "properties" | "yaml" | "toml" | "json" | "text";

export function patchFormatOf(file: string): PatchFormat {
  const lower = file.toLowerCase();
  if (lower.endsWith(".properties")) return "properties";
  if (lower.endsWith(".yml") || lower.endsWith(".yaml")) return "yaml";
  if (lower.endsWith(".toml")) return "toml";
  if (lower.endsWith(".json")) return "json";
  return "text";
}

/** A patch that cannot be applied as written (the file does not parse, the path runs into a scalar). */
export class ConfigPatchError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`config patch on ${file}: ${message}`);
    this.name = "ConfigPatchError";
  }
}

/**
 * Applies one file's patches, in order, to its current text ("" when the file does not exist yet).
 *
 * SET writes a key: a `.properties` key (comments and order kept), or a dotted path into YAML
 * (comments kept), TOML or JSON, creating tables on the way; an all-digit segment indexes a list.
 * In the structured formats the value is read as JSON when it parses (`true`, `25565`, `["a"]`)
 * and as a plain string otherwise. REPLACE swaps every literal `path` for `value`; REGEX replaces
 * every match of the expression `path`.
 *
 * `%NAME%` placeholders in values are substituted after the value is typed, and only inside
 * strings, so a secret or a port lands in the file without ever being part of the (hashed) plan.
 */
export function applyConfigPatches(
  file: string,
  text: string,
  patches: readonly PlanConfigPatch[],
  variables: Readonly<Record<string, string>>,
): string {
  let current = text;
  for (const patch of patches) current = applyOne(file, current, patch, variables);
  return current;
}

function applyOne(
  file: string,
  text: string,
  patch: PlanConfigPatch,
  variables: Readonly<Record<string, string>>,
): string {
  const sub = (value: string) => substitutePlaceholders(value, variables, ["percent"]);
  switch (patch.op) {
    case "REPLACE":
      return patch.path === "" ? text : text.split(patch.path).join(sub(patch.value));
    case "REGEX": {
      let pattern: RegExp;
      try {
        pattern = new RegExp(patch.path, "gm");
      } catch (err) {
        throw new ConfigPatchError(
          file,
          `invalid regular expression ${patch.path}: ${(err as Error).message}`,
        );
      }
      return text.replace(pattern, sub(patch.value));
    }
    case "SET":
      return setKey(file, text, patch.path, patch.value, sub);
  }
}

function setKey(file: string, text: string, path: string, raw: string, sub: (v: string) => string): string {
  const format = patchFormatOf(file);
  if (format === "properties") {
    // The same key-level merge template layers use: the key keeps its line, or is appended.
    const line = `${escapeKey(path)}=${escapeValue(sub(raw))}\n`;
    const out = text === "" ? line : mergeProperties(text, line);
    return out.endsWith("\n") ? out : `${out}\n`;
  }
  if (format === "text") throw new ConfigPatchError(file, "SET needs a .properties, YAML, TOML or JSON file");
  const segments = path.split(".");
  if (segments.some((segment) => segment === "")) throw new ConfigPatchError(file, `bad key path "${path}"`);
  const value = typedValue(raw, sub);
  if (format === "yaml") {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw new ConfigPatchError(file, `not valid YAML: ${doc.errors[0]!.message}`);
    try {
      doc.setIn(segments.map(keyOf), value);
    } catch (err) {
      throw new ConfigPatchError(file, `cannot set ${path}: ${(err as Error).message}`);
    }
    return String(doc);
  }
  let tree: unknown;
  try {
    tree =
      format === "toml"
        ? parseToml(stripBom(text), { integersAsBigInt: "asNeeded" })
        : text.trim() === ""
          ? {}
          : JSON.parse(stripBom(text));
  } catch (err) {
    throw new ConfigPatchError(file, `not valid ${format.toUpperCase()}: ${(err as Error).message}`);
  }
  setIn(file, tree, segments, value);
  if (format === "json") return `${JSON.stringify(tree, null, 2)}\n`;
  const out = stringifyToml(tree as Record<string, unknown>);
  return out.endsWith("\n") ? out : `${out}\n`;
}

/** JSON when the value parses as JSON, else the string; placeholders substituted inside strings. */
function typedValue(raw: string, sub: (v: string) => string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // not JSON: the value is a plain string, as documented above
    return sub(raw);
  }
  return substituteStrings(parsed, sub);
}

function substituteStrings(value: unknown, sub: (v: string) => string): unknown {
  if (typeof value === "string") return sub(value);
  if (Array.isArray(value)) return value.map((item) => substituteStrings(item, sub));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteStrings(v, sub)]));
  }
  return value;
}

function keyOf(segment: string): string | number {
  return /^\d+$/.test(segment) ? Number(segment) : segment;
}

function setIn(file: string, root: unknown, segments: readonly string[], value: unknown): void {
  let node = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    if (Array.isArray(node) && /^\d+$/.test(segment)) {
      const index = Number(segment);
      if (index > node.length)
        throw new ConfigPatchError(file, `index ${segment} is past the end of the list`);
      if (last) node[index] = value;
      else node = node[index] ??= {};
      continue;
    }
    if (node === null || typeof node !== "object" || Array.isArray(node)) {
      throw new ConfigPatchError(file, `${segments.slice(0, i).join(".")} is not a table`);
    }
    const record = node as Record<string, unknown>;
    if (segment === "__proto__" || segment === "constructor" || segment === "prototype") {
      throw new ConfigPatchError(file, `key "${segment}" is not allowed`);
    }
    if (last) record[segment] = value;
    else node = record[segment] ??= {};
  }
}
