// CSI sequences (colours, cursor moves such as readline's `ESC[1G`). Loggers emit them even into a pipe.
const ANSI_CSI = new RegExp(`${String.fromCharCode(0x1b)}\\[[0-9;?]*[A-Za-z]`, "g");
// Interactive consoles (Node readline, jline) redraw their `> ` prompt in front of log output.
const LEADING_PROMPTS = /^(?:> ?)+/;

/**
 * One console line as operators and the crash classifier should see it: no terminal control codes,
 * no prompt residue, no carriage return. A line that was only noise comes back empty.
 */
export function cleanConsoleLine(raw: string): string {
  return raw.replace(ANSI_CSI, "").replace(/\r/g, "").replace(LEADING_PROMPTS, "").trimEnd();
}
