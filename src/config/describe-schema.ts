import { Kind, type TSchema } from "@sinclair/typebox";

/** Human wording of what a schema accepts, for config error messages ("expected …"). */
export function describeSchema(schema: TSchema): string {
  const kind = schema[Kind] as string | undefined;
  switch (kind) {
    case "Integer":
    case "Number": {
      const noun = kind === "Integer" ? "an integer" : "a number";
      const lo = schema.minimum as number | undefined;
      const hi = schema.maximum as number | undefined;
      if (lo !== undefined && hi !== undefined) return `${noun} from ${lo} to ${hi}`;
      if (lo !== undefined) return `${noun} ≥ ${lo}`;
      if (hi !== undefined) return `${noun} ≤ ${hi}`;
      return noun;
    }
    case "String":
      if (schema.description && schema.pattern) return schema.description as string;
      if (schema.minLength) return "a non-empty string";
      return "a string";
    case "Boolean":
      return "true or false";
    case "Literal":
      return JSON.stringify(schema.const);
    case "Union": {
      const members = (schema.anyOf as TSchema[]) ?? [];
      if (members.every((m) => m[Kind] === "Literal")) {
        return `one of ${members.map((m) => String(m.const)).join(", ")}`;
      }
      return members.map(describeSchema).join(" or ");
    }
    case "Array":
      return `a list of ${describeSchema(schema.items as TSchema).replace(/^an? /, "")}s`;
    case "Object":
      return "a mapping";
    case "Record":
      return "a mapping of names to values";
    case "Null":
      return "null";
    default:
      return "a valid value";
  }
}

export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}
