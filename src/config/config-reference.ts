import { Kind, OptionalKind, type TSchema } from "@sinclair/typebox";
import { ControllerConfigSchema } from "./controller-schema.ts";
import { DaemonConfigSchema } from "./daemon-schema.ts";

/**
 * The configuration reference, read from the schemas themselves: every key of controller.yml and
 * daemon.yml with its type, default and description. `prexor config reference` prints it and
 * docs/configuration.md is generated from it (`bun run docs:config`), so the two cannot drift from
 * what the loader accepts; a unit test fails when the document is stale or a key has no description.
 */
export interface ReferenceEntry {
  /** dotted path, e.g. `http.port` */
  readonly key: string;
  readonly type: string;
  /** JSON of the default, or "" when the key has none */
  readonly default: string;
  readonly description: string;
  /** a key the file may leave out entirely without a default taking its place */
  readonly optional: boolean;
}

export const CONFIG_FILES = {
  controller: { file: "controller.yml", schema: ControllerConfigSchema },
  daemon: { file: "daemon.yml", schema: DaemonConfigSchema },
} as const;

export type ConfigRole = keyof typeof CONFIG_FILES;

/** The keys of one schema, depth first in declaration order; mappings are entered, not listed. */
export function referenceEntries(schema: TSchema): ReferenceEntry[] {
  const out: ReferenceEntry[] = [];
  walk(schema, "", false, out);
  return out;
}

function walk(schema: TSchema, path: string, optional: boolean, out: ReferenceEntry[]): void {
  const properties =
    schema[Kind] === "Object" ? (schema.properties as Record<string, TSchema> | undefined) : undefined;
  if (properties && Object.keys(properties).length > 0) {
    for (const [name, child] of Object.entries(properties)) {
      walk(child, path ? `${path}.${name}` : name, optional || child[OptionalKind] === "Optional", out);
    }
    return;
  }
  out.push({
    key: path,
    type: typeLabel(schema),
    default: schema.default === undefined ? "" : JSON.stringify(schema.default),
    description: typeof schema.description === "string" ? schema.description : "",
    optional: optional && schema.default === undefined,
  });
}

/** A short type for the reference: `integer (1–65535)`, `one of "v3", "v2"`, `list of string`. */
export function typeLabel(schema: TSchema): string {
  switch (schema[Kind] as string | undefined) {
    case "Integer":
    case "Number": {
      const noun = schema[Kind] === "Integer" ? "integer" : "number";
      const lo = schema.minimum as number | undefined;
      const hi = schema.maximum as number | undefined;
      if (lo !== undefined && hi !== undefined) return `${noun} (${lo}–${hi})`;
      if (lo !== undefined) return `${noun} (≥ ${lo})`;
      if (hi !== undefined) return `${noun} (≤ ${hi})`;
      return noun;
    }
    case "String":
      if (schema.pattern) return `string matching \`${schema.pattern}\``;
      return schema.minLength ? "string (non-empty)" : "string";
    case "Boolean":
      return "boolean";
    case "Literal":
      return JSON.stringify(schema.const);
    case "Null":
      return "null";
    case "Union": {
      const members = (schema.anyOf as TSchema[]) ?? [];
      if (members.every((m) => m[Kind] === "Literal"))
        return `one of ${members.map((m) => JSON.stringify(m.const)).join(", ")}`;
      return members.map(typeLabel).join(" or ");
    }
    case "Array": {
      const items = schema.items as TSchema;
      // An item type that explains itself (a CIDR, an origin) reads better than its pattern.
      const item =
        typeof items.description === "string" && items[Kind] === "String"
          ? items.description
          : typeLabel(items);
      return `list of ${item.replace(/^an? /, "")}`;
    }
    case "Record": {
      const values = Object.values((schema.patternProperties as Record<string, TSchema>) ?? {})[0];
      return values && values[Kind] !== "Unknown" ? `mapping of string to ${typeLabel(values)}` : "mapping";
    }
    case "Object":
      return "mapping";
    case "Unknown":
    case "Any":
      return "any";
    default:
      return "value";
  }
}

/** Plain text for a terminal: one block per key. */
export function renderReferenceText(roles: readonly ConfigRole[]): string {
  const blocks: string[] = [];
  for (const role of roles) {
    const { file, schema } = CONFIG_FILES[role];
    const lines = [`${file}`];
    for (const e of referenceEntries(schema)) {
      const def = e.default === "" ? (e.optional ? "unset (optional)" : "none") : e.default;
      lines.push(
        `  ${e.key}`,
        `      type:    ${e.type.replaceAll("`", "")}`,
        `      default: ${def}`,
        `      ${e.description}`,
      );
    }
    blocks.push(lines.join("\n"));
  }
  return `${blocks.join("\n\n")}\n`;
}

const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");

/** Markdown tables, one per file (the body of docs/configuration.md). */
export function renderReferenceMarkdown(roles: readonly ConfigRole[]): string {
  const sections: string[] = [];
  for (const role of roles) {
    const { file, schema } = CONFIG_FILES[role];
    const rows = referenceEntries(schema).map((e) => {
      const def = e.default === "" ? (e.optional ? "_unset_" : "") : `\`${e.default}\``;
      return `| \`${e.key}\` | ${cell(e.type)} | ${cell(def)} | ${cell(e.description)} |`;
    });
    sections.push(
      [`## ${file}`, "", "| Key | Type | Default | Description |", "| --- | --- | --- | --- |", ...rows].join(
        "\n",
      ),
    );
  }
  return sections.join("\n\n");
}

/** docs/configuration.md exactly as `bun run docs:config` writes it. */
export function configurationDocument(): string {
  return [
    "# Configuration reference",
    "",
    "<!-- Generated from src/config/*-schema.ts by `bun run docs:config`; do not edit by hand. -->",
    "",
    "Every key of `controller.yml` and `daemon.yml`, with its type, default and description, as the",
    "loader reads them. A key can also be set through the environment, which wins over the file:",
    "`PREXOR_` (daemon: `PREXOR_DAEMON_`) and the path with `__` between levels, e.g.",
    "`PREXOR_HTTP__PORT=8081` or `PREXOR_CATALOG__DOWNLOADS__BASE_URL=http://mirror:8080`.",
    "`prexor config check FILE` validates a file without starting anything, and",
    "`prexor config reference` prints this list.",
    "",
    renderReferenceMarkdown(["controller", "daemon"]),
    "",
  ].join("\n");
}
