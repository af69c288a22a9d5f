import { escapeControl } from "./escape.ts";
import type { Style } from "./style.ts";

export type Cell = string | number | boolean | null | undefined;

export interface Column<T> {
  header: string;
  value(row: T): Cell;
  /** only with `-o wide` */
  wide?: boolean;
  /** colour applied after padding, so escapes never disturb alignment */
  color?: (text: string, style: Style) => string;
}

const GAP = "   ";

export function cellText(value: Cell): string {
  if (value === null || value === undefined || value === "") return "-";
  // One row per line, whatever the data holds.
  return escapeControl(String(value).replace(/[\r\n\t]+/g, " "));
}

/** kubectl-style table: upper-case headers, columns padded to their widest cell, 3-space gaps. */
export function renderTable<T>(
  rows: readonly T[],
  columns: readonly Column<T>[],
  options: { wide: boolean; headers: boolean; style: Style },
): string {
  const shown = columns.filter((c) => options.wide || !c.wide);
  const body = rows.map((row) => shown.map((c) => cellText(c.value(row))));
  const head = shown.map((c) => c.header.toUpperCase());
  const all = options.headers ? [head, ...body] : body;
  const widths = shown.map((_, i) => Math.max(...all.map((r) => [...r[i]!].length)));
  const lines = all.map((cells, rowIndex) => {
    const isHeader = options.headers && rowIndex === 0;
    return cells
      .map((text, i) => {
        const last = i === cells.length - 1;
        const padded = last ? text : text + " ".repeat(widths[i]! - [...text].length);
        if (isHeader) return options.style.bold(padded);
        const color = shown[i]!.color;
        if (!color) return padded;
        // Colour the text, keep the padding plain.
        return color(text, options.style) + padded.slice(text.length);
      })
      .join(GAP)
      .trimEnd();
  });
  return lines.join("\n");
}
