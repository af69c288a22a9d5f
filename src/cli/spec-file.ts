import { existsSync, readFileSync } from "node:fs";
import type { TSchema } from "@sinclair/typebox";
import { Value, ValueErrorType } from "@sinclair/typebox/value";
import { LineCounter, parseDocument } from "yaml";
import { describeSchema, describeValue } from "../config/describe-schema.ts";
import { nodeLine } from "../config/load.ts";
import { CliError, EXIT } from "./errors.ts";
import { readStdin } from "./prompt.ts";

/** A resource read from `-f file.yml` (YAML or JSON, `-` for stdin), with positions kept for errors. */
export interface SpecFile {
  /** the name to show in messages */
  file: string;
  value: Record<string, unknown>;
  lineOf(path: readonly string[]): number | undefined;
}

export async function readSpecFile(file: string): Promise<SpecFile> {
  const label = file === "-" ? "<stdin>" : file;
  let text: string;
  if (file === "-") text = await readStdin();
  else {
    if (!existsSync(file)) throw new CliError(`${file}: no such file`, EXIT.USAGE);
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new CliError(`${file}: cannot read: ${(err as Error).message}`);
    }
  }
  return parseSpecText(text, label);
}

export function parseSpecText(text: string, file: string): SpecFile {
  const lines = new LineCounter();
  // JSON is YAML, so one parser serves both and both get line numbers.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = lines.linePos(first.pos[0]);
    throw new CliError(`${file}:${pos.line}:${pos.col}: invalid YAML: ${first.message.split("\n")[0]}`);
  }
  const value = doc.toJS() as unknown;
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new CliError(`${file}:1: expected a mapping of fields (key: value) at the top level`);
  return { file, value: value as Record<string, unknown>, lineOf: (path) => nodeLine(doc, lines, [...path]) };
}

/**
 * Checks the document against the server's schema before anything is sent, so a mistake is
 * reported as `file:line: field: expected …` rather than as a bare 422 from the controller.
 */
export function checkSpec(spec: SpecFile, schema: TSchema, value: unknown = spec.value): void {
  const filled = Value.Default(schema, Value.Clone(value));
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, filled)) {
    const segments = error.path
      .split("/")
      .filter(Boolean)
      .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
    const path = segments.join(".");
    if (seen.has(path) || [...seen].some((p) => p !== "" && path.startsWith(`${p}.`))) continue;
    seen.add(path);
    const line = spec.lineOf(segments);
    const where = line ? `${spec.file}:${line}` : spec.file;
    let message: string;
    if (error.type === ValueErrorType.ObjectAdditionalProperties) message = "unknown field";
    else if (error.type === ValueErrorType.ObjectRequiredProperty || error.value === undefined)
      message = "required";
    else message = `expected ${describeSchema(error.schema as TSchema)}, got ${describeValue(error.value)}`;
    problems.push(`${where}: ${path || "(document)"}: ${message}`);
  }
  if (problems.length > 0) {
    const [head, ...rest] = problems;
    throw new CliError(head!, EXIT.ERROR, rest.length > 0 ? rest.join("\n") : undefined);
  }
}
