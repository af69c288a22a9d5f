import { existsSync, readFileSync } from "node:fs";
import { Kind, type Static, type TObject, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { type Document, isMap, isSeq, LineCounter, parseDocument } from "yaml";
import { describeSchema, describeValue } from "./describe-schema.ts";
import { ConfigError, type ConfigIssue } from "./issues.ts";

export interface LoadOptions {
  /** environment to read overrides from (default: process.env) */
  env?: Record<string, string | undefined>;
  /** e.g. `PREXOR_` for controller.yml, `PREXOR_DAEMON_` for daemon.yml */
  envPrefix: string;
  /** a missing file means "all defaults" instead of an error */
  allowMissing?: boolean;
}

type Json = Record<string, unknown>;

/** Reads, validates and fills defaults. Collects every problem, then throws one ConfigError. */
export function loadConfigFile<S extends TObject>(schema: S, file: string, options: LoadOptions): Static<S> {
  if (!existsSync(file)) {
    if (options.allowMissing) return parseConfigText(schema, "", file, options);
    throw new ConfigError(file, [{ path: "", message: "file not found" }]);
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(file, [{ path: "", message: `cannot read: ${(err as Error).message}` }]);
  }
  return parseConfigText(schema, text, file, options);
}

export function parseConfigText<S extends TObject>(
  schema: S,
  text: string,
  file: string,
  options: LoadOptions,
): Static<S> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({
        path: "",
        message: `invalid YAML: ${e.message.split("\n")[0]}`,
        line: lines.linePos(e.pos[0]).line,
      })),
    );
  }
  const raw = doc.toJS() ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(file, [
      { path: "", message: "expected a mapping of keys at the top level", line: 1 },
    ]);
  }
  const issues: ConfigIssue[] = [];
  const lineOf = (path: string[]) => nodeLine(doc, lines, path);
  findUnknownKeys(schema, raw as Json, [], issues, lineOf);

  const envKeys = new Map<string, string>();
  applyEnvOverrides(schema, raw as Json, options, issues, envKeys);

  const value = Value.Default(schema, Value.Clone(raw)) as Json;
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, value)) {
    const segments = error.path.split("/").filter(Boolean).map(unescapePointer);
    const path = segments.join(".");
    if (seen.has(path) || [...seen].some((p) => p !== "" && path.startsWith(`${p}.`))) continue;
    seen.add(path);
    issues.push({
      path,
      message: `expected ${describeSchema(error.schema as TSchema)}, got ${describeValue(error.value)}`,
      line: lineOf(segments),
      envVar: envKeys.get(path),
    });
  }
  if (issues.length > 0) throw new ConfigError(file, issues);
  return value as Static<S>;
}

function unescapePointer(segment: string): string {
  return segment.replaceAll("~1", "/").replaceAll("~0", "~");
}

/**
 * Line of the key at `path` (or of the nearest ancestor present), so messages point at the key.
 * prexorctl uses it for `-f` files too.
 */
export function nodeLine(doc: Document, lines: LineCounter, path: string[]): number | undefined {
  for (let depth = path.length; depth > 0; depth--) {
    const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
    const key = path[depth - 1];
    if (isMap(parent)) {
      const pair = parent.items.find(
        (p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === key,
      );
      const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (range) return lines.linePos(range[0]).line;
    } else if (isSeq(parent)) {
      const item = parent.items[Number(key)] as { range?: [number, number, number] } | undefined;
      if (item?.range) return lines.linePos(item.range[0]).line;
    }
  }
  const root = doc.contents as { range?: [number, number, number] } | null;
  return root?.range ? lines.linePos(root.range[0]).line : undefined;
}

function objectProperties(schema: TSchema): Record<string, TSchema> | undefined {
  return schema[Kind] === "Object" ? (schema.properties as Record<string, TSchema>) : undefined;
}

function findUnknownKeys(
  schema: TSchema,
  value: unknown,
  path: string[],
  issues: ConfigIssue[],
  lineOf: (path: string[]) => number | undefined,
): void {
  const props = objectProperties(schema);
  if (!props || value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value as Json)) {
    const childSchema = props[key];
    const childPath = [...path, key];
    if (!childSchema) {
      const hint = closestKey(key, Object.keys(props));
      issues.push({
        path: childPath.join("."),
        message: `unknown key${hint ? ` (did you mean "${hint}"?)` : ""}`,
        line: lineOf(childPath),
      });
      continue;
    }
    findUnknownKeys(childSchema, child, childPath, issues, lineOf);
  }
}

function closestKey(key: string, candidates: string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replaceAll(/[-_]/g, "");
  return candidates.find((c) => norm(c) === norm(key)) ?? candidates.find((c) => editDistance(c, key) <= 2);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/**
 * `PREXOR_HTTP__PORT=9000` sets http.port: `__` separates levels, single underscores separate words
 * of a camelCase key. Only variables whose first level names a known section are taken, so that
 * unrelated PREXOR_* variables (PREXOR_TOKEN for the CLI, test settings) are left alone.
 */
function applyEnvOverrides(
  schema: TObject,
  target: Json,
  options: LoadOptions,
  issues: ConfigIssue[],
  envKeys: Map<string, string>,
): void {
  const env = options.env ?? process.env;
  const norm = (s: string) => s.toLowerCase().replaceAll("_", "");
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !name.startsWith(options.envPrefix)) continue;
    const segments = name.slice(options.envPrefix.length).split("__");
    const path: string[] = [];
    let current: TSchema = schema;
    let matched = true;
    for (const [i, segment] of segments.entries()) {
      const props = objectProperties(current);
      const key = props && Object.keys(props).find((k) => norm(k) === norm(segment));
      if (!props || !key) {
        matched = false;
        if (i > 0)
          issues.push({
            path: [...path, segment.toLowerCase()].join("."),
            message: "unknown key",
            envVar: name,
          });
        break;
      }
      path.push(key);
      current = props[key]!;
    }
    if (!matched) continue;
    let cursor = target;
    for (const key of path.slice(0, -1)) {
      const next = cursor[key];
      if (next === null || typeof next !== "object" || Array.isArray(next)) cursor[key] = {};
      cursor = cursor[key] as Json;
    }
    cursor[path[path.length - 1]!] = coerceEnvValue(current, raw);
    envKeys.set(path.join("."), name);
  }
}

function coerceEnvValue(schema: TSchema, raw: string): unknown {
  const kind = schema[Kind] as string;
  const text = raw.trim();
  if (kind === "Integer" || kind === "Number")
    return text !== "" && Number.isFinite(Number(text)) ? Number(text) : raw;
  if (kind === "Boolean") {
    if (/^(true|1|yes|on)$/i.test(text)) return true;
    if (/^(false|0|no|off)$/i.test(text)) return false;
    return raw;
  }
  if (kind === "Array" || kind === "Object" || kind === "Record") {
    if (text.startsWith("[") || text.startsWith("{")) {
      try {
        return JSON.parse(text);
      } catch {
        // not JSON after all: keep the raw string so validation reports the key with what was expected
        return raw;
      }
    }
    return kind === "Array" ? (text === "" ? [] : text.split(",").map((s) => s.trim())) : raw;
  }
  return raw;
}
