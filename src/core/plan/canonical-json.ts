import { AppError } from "../errors.ts";

/**
 * Canonical JSON for hashing: object keys sorted (UTF-16 code-unit order, as in RFC 8785), no
 * whitespace, properties whose value is `undefined` dropped, numbers in ECMAScript's shortest
 * round-trip form (so `1.0` and `1` agree and `-0` is `0`). Anything without one obvious JSON spelling
 * (NaN, Infinity, bigint, Date, Map, byte arrays, class instances) is refused rather than guessed, so a
 * hash can never silently depend on how some object happens to stringify.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) throw invalid("undefined has no JSON form", "$");
  return write(value, "$");
}

function write(value: unknown, at: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw invalid(`non-finite number ${value}`, at);
      return JSON.stringify(value);
    case "object":
      return Array.isArray(value) ? writeArray(value, at) : writeObject(value, at);
    default:
      throw invalid(`a ${typeof value} has no canonical JSON form`, at);
  }
}

function writeArray(items: readonly unknown[], at: string): string {
  // Matches JSON.stringify: a hole or undefined inside an array is null, keeping positions stable.
  const parts = Array.from(items, (item, index) =>
    item === undefined ? "null" : write(item, `${at}[${index}]`),
  );
  return `[${parts.join(",")}]`;
}

function writeObject(object: object, at: string): string {
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) {
    throw invalid(`${proto?.constructor?.name ?? "object"} is not a plain object`, at);
  }
  const record = object as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${write(item, `${at}.${key}`)}`);
  }
  return `{${parts.join(",")}}`;
}

function invalid(reason: string, at: string): AppError {
  return new AppError("INVALID_ARGUMENT", `cannot canonicalize ${at}: ${reason}`, { path: at, reason });
}
