// Colour and cursor codes (ESC [ … final byte) that console capture keeps from a TTY-style logger.
const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(0x1b)}\\[[0-9;?]*[ -/]*[@-~]`, "g");
const LEADING_TIMESTAMP =
  /^(?:\d{4}-\d{2}-\d{2}[T ])?\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\s+/;
// `[12:34:56 ERROR]:`, `[12:34:56] [Server thread/ERROR]:`, `[main/INFO] [minecraft/Main]:` and the like.
const LEADING_BRACKET_GROUP = /^\[[^\]]{0,80}\]:?\s*/;
const LEADING_LEVEL = /^(?:FATAL|SEVERE|ERROR|WARN|WARNING|INFO|DEBUG|TRACE)\b:?\s+/;

/** A console line without colour codes and without the logger's timestamp/thread/level prefix. */
export function stripLogPrefix(line: string): string {
  let text = line.replace(ANSI_ESCAPE, "").trimEnd();
  text = text.replace(LEADING_TIMESTAMP, "");
  for (let i = 0; i < 4 && LEADING_BRACKET_GROUP.test(text); i++) {
    text = text.replace(LEADING_BRACKET_GROUP, "");
  }
  return text.replace(LEADING_LEVEL, "");
}

/** Splits tail entries that carry several lines, so every rule sees one physical line at a time. */
export function physicalLines(tail: readonly string[]): string[] {
  return tail.flatMap((entry) => entry.split(/\r?\n/));
}

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const HEX_LITERAL = /\b0x[0-9a-f]+\b/gi;
// Identity hash codes (`Object@1b6d3586`) and lambda/hidden-class addresses.
const IDENTITY_HASH = /@[0-9a-f]{4,}\b/gi;
// Long hex runs with at least one digit: commit ids, digests, addresses printed without `0x`.
const HEX_RUN = /\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi;
// `~[paper-1.21.4.jar:1.21.4-123-abc]` / `[?:?]` after a frame: where the class came from, not what failed.
const FRAME_ORIGIN = /\s+~?\[[^\]]*\]\s*$/;
const DIGIT_RUN = /\d+/g;
// The sign of a standalone number (a coordinate, an offset) varies like the digits do; `lobby-3` keeps its dash.
const NUMBER_SIGN = /(^|[\s,(:=[])-(?=\d)/g;

/**
 * The stable form of a line for crash signatures: no log prefix, and every part that differs between
 * two instances hitting the same bug (instance id, UUIDs, addresses, hashes, counts, ports, line
 * numbers, versions) replaced by a fixed token.
 */
export function normalizeForSignature(line: string, instanceId?: string): string {
  let text = stripLogPrefix(line).trim();
  if (instanceId) text = text.split(instanceId).join("<instance>");
  return text
    .replace(FRAME_ORIGIN, "")
    .replace(UUID, "<uuid>")
    .replace(HEX_LITERAL, "<addr>")
    .replace(IDENTITY_HASH, "@<hex>")
    .replace(HEX_RUN, "<hex>")
    .replace(NUMBER_SIGN, "$1")
    .replace(DIGIT_RUN, "N")
    .replace(/\s+/g, " ");
}
