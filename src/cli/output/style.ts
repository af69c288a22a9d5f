/**
 * Colour is for people at a terminal. It is off when stdout is not a TTY (pipes, files, CI logs),
 * when NO_COLOR is set (no-color.org), when TERM=dumb, or with --no-color.
 */
export interface Style {
  enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  /** colours a state word by what it means: healthy, in transition, failed, gone */
  state(text: string): string;
}

export function colorWanted(
  stream: { isTTY?: boolean },
  flag: boolean | undefined,
  env: Record<string, string | undefined> = process.env,
): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

const HEALTHY = new Set(["RUNNING", "ONLINE", "UP", "READY", "ON", "ACTIVE", "YES"]);
const MOVING = new Set(["SCHEDULED", "PREPARING", "STARTING", "STOPPING", "DRAINING", "CORDONED", "PENDING"]);
const FAILED = new Set(["CRASHED", "UNREACHABLE", "DOWN", "FAILED", "REVOKED", "EXPIRED"]);

export function makeStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (text: string) =>
    enabled && text !== "" ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  const red = wrap(31, 39);
  const green = wrap(32, 39);
  const yellow = wrap(33, 39);
  const dim = wrap(2, 22);
  return {
    enabled,
    bold: wrap(1, 22),
    dim,
    red,
    green,
    yellow,
    state(text) {
      const key = text.trim().toUpperCase();
      if (HEALTHY.has(key)) return green(text);
      if (MOVING.has(key)) return yellow(text);
      if (FAILED.has(key)) return red(text);
      if (key === "STOPPED" || key === "OFFLINE") return dim(text);
      return text;
    },
  };
}
