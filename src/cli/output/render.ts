import { stringify } from "yaml";
import { CliError, EXIT } from "../errors.ts";
import { escapeControl } from "./escape.ts";
import type { Style } from "./style.ts";
import { type Column, renderTable } from "./table.ts";

export const OUTPUT_FORMATS = ["table", "wide", "json", "yaml", "name"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface Output {
  format: OutputFormat;
  headers: boolean;
  style: Style;
  /** stdout */
  print(text: string): void;
  /** stderr: notes for people, never data */
  note(text: string): void;
}

export function parseFormat(value: string | undefined): OutputFormat {
  const format = (value ?? "").trim().toLowerCase() || "table";
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format))
    throw new CliError(`-o must be one of ${OUTPUT_FORMATS.join(", ")} (got "${value}")`, EXIT.USAGE);
  return format as OutputFormat;
}

export function isMachine(out: Output): boolean {
  return out.format === "json" || out.format === "yaml";
}

export function printData(out: Output, data: unknown): void {
  if (out.format === "yaml") out.print(stringify(data, { lineWidth: 0 }).trimEnd());
  else out.print(JSON.stringify(data, null, 2));
}

/**
 * A list: a table for people, the items as a JSON/YAML array for scripts, names with `-o name`.
 * "Nothing found" goes to stderr so `| wc -l` and `-o json` stay honest.
 */
export function printList<T>(
  out: Output,
  rows: readonly T[],
  columns: readonly Column<T>[],
  /** `what` prefixes `-o name` lines (`group/lobby`); `plural` words the empty message */
  options: { what: string; plural?: string; name?: (row: T) => string },
): void {
  if (isMachine(out)) {
    printData(out, rows);
    return;
  }
  if (out.format === "name") {
    const name = options.name ?? ((row: T) => String(columns[0]!.value(row)));
    for (const row of rows) out.print(escapeControl(`${options.what}/${name(row)}`));
    return;
  }
  if (rows.length === 0) {
    out.note(`No ${options.plural ?? `${options.what}s`} found.`);
    return;
  }
  out.print(
    renderTable(rows, columns, { wide: out.format === "wide", headers: out.headers, style: out.style }),
  );
}

/** One object: as is for scripts, readable YAML for people (optionally reshaped first). */
export function printItem(out: Output, item: unknown, human?: (item: never) => unknown): void {
  if (isMachine(out)) {
    printData(out, item);
    return;
  }
  if (out.format === "name") {
    const id = (item as { name?: string; id?: string }).name ?? (item as { id?: string }).id;
    if (id !== undefined) out.print(escapeControl(String(id)));
    return;
  }
  const shown = human ? human(item as never) : item;
  // YAML escapes control characters in the strings it quotes; a plain string is escaped here.
  out.print(typeof shown === "string" ? escapeControl(shown) : stringify(shown, { lineWidth: 0 }).trimEnd());
}

/** A change was made: a sentence for people, the resulting object for scripts. */
export function printDone(out: Output, message: string, result: unknown): void {
  if (isMachine(out)) printData(out, result ?? {});
  else out.print(escapeControl(message));
}
