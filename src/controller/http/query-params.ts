import { Kind, OptionalKind, type TObject, type TSchema, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import { AppError } from "../../core/errors.ts";

type Loose = TSchema & Record<string | symbol, unknown>;
const NUMERIC_OPTIONS = [
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "default",
];

/**
 * Elysia's `t.Integer` / `t.Numeric` are a union "numeric string | number" decoded by a transform;
 * the bounds live on the number branch and the union. For our own check we keep the number
 * branch with the union's bounds and default, so a string is converted once and then checked.
 */
function numberBranch(prop: Loose): Loose {
  const anyOf = prop.anyOf as Loose[] | undefined;
  const num = anyOf?.find((b) => b[Kind] === "Integer" || b[Kind] === "Number");
  if (!num) return prop;
  const merged: Loose = { ...num };
  for (const key of NUMERIC_OPTIONS) if (prop[key] !== undefined) merged[key] = prop[key];
  return merged;
}

/** The route's query schema with every numeric field a plain integer/number (bounds kept). */
export function strictQuerySchema(schema: TSchema): TObject {
  const source = schema as unknown as { properties: Record<string, Loose>; additionalProperties?: boolean };
  const props: Record<string, TSchema> = {};
  for (const [key, prop] of Object.entries(source.properties ?? {})) {
    const plain = numberBranch(prop);
    props[key] = prop[OptionalKind] === "Optional" ? Type.Optional(plain) : plain;
  }
  return Type.Object(props, { additionalProperties: source.additionalProperties ?? false });
}

/**
 * Query strings are coerced and bounds-checked here, by the route's own schema, not by the
 * framework: in the minified binary Elysia handed handlers the raw strings unchecked
 * (`?page=-5&pageSize=5000000` was echoed back, a 25-digit page reached SQLite as a 500).
 * Each value is converted to the schema's type (integers must be integers in range), defaults
 * applied, unknown or repeated keys refused, and the result checked.
 */
export function queryReader(schema: TSchema): (url: string) => unknown {
  const strict = strictQuerySchema(schema);
  const check = TypeCompiler.Compile(strict);
  return (url) => {
    const raw: Record<string, string> = {};
    for (const [key, value] of new URL(url).searchParams) {
      if (key in raw) throw new AppError("VALIDATION_ERROR", `${key}: given more than once`, { field: key });
      // Convert would truncate "1.5" to 1: an integer field takes digits only.
      const prop = strict.properties[key] as Loose | undefined;
      if (prop?.[Kind] === "Integer" && !/^-?\d+$/.test(value)) {
        throw new AppError("VALIDATION_ERROR", `${key}: expected an integer`, { field: key });
      }
      raw[key] = value;
    }
    const value = Value.Default(strict, Value.Convert(strict, raw));
    if (check.Check(value)) return value;
    const first = check.Errors(value).First();
    const field = first?.path.replace(/^\//, "").replaceAll("/", ".") ?? "";
    const rule = first?.message ?? "invalid query";
    throw new AppError("VALIDATION_ERROR", field ? `${field}: ${rule}` : rule, field ? { field } : undefined);
  };
}

/** The OpenAPI `parameters` of a query schema (Elysia documents only what it validates itself). */
export function queryParametersDoc(schema: TSchema): Array<Record<string, unknown>> {
  const strict = strictQuerySchema(schema);
  const required = new Set((strict as { required?: string[] }).required ?? []);
  return Object.entries(strict.properties).map(([name, prop]) => ({
    name,
    in: "query",
    required: required.has(name),
    schema: JSON.parse(JSON.stringify(prop)),
  }));
}
