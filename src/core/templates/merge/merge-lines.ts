/**
 * Line-level merge for list-like text files (`.txt .cfg .conf .ini .list`): the base is kept as is and
 * each overlay line the base does not already contain is appended once, in overlay order.
 */
export function mergeLines(baseText: string, overlayText: string): string {
  const eol = baseText.includes("\r\n") ? "\r\n" : "\n";
  const present = new Set(splitLines(baseText));
  const additions: string[] = [];
  for (const line of splitLines(overlayText)) {
    if (line.trim() === "" || present.has(line)) continue;
    present.add(line);
    additions.push(line);
  }
  if (additions.length === 0) return baseText;
  const separator = baseText === "" || /\r?\n$/.test(baseText) ? "" : eol;
  return `${baseText}${separator}${additions.join(eol)}${eol}`;
}

function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines;
}
