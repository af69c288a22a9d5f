/**
 * Control characters from the server (a file name, an error message, a player name) never reach
 * the terminal raw: ESC sequences could recolour, move the cursor or retitle the window, BEL rings,
 * a newline forges an output line. Each becomes a visible `\xNN` escape. C1 controls (U+0080–U+009F)
 * are escaped too: some terminals act on them like ESC sequences.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
