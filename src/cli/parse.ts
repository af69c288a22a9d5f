import { systemClock } from "../core/clock.ts";
import { CliError, EXIT } from "./errors.ts";

/** Flag values arrive as strings; these turn them into values or a usage error naming the flag. */

export function parseInteger(
  value: string | undefined,
  flag: string,
  range: { min?: number; max?: number } = {},
): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value.trim());
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    const bounds =
      range.min !== undefined && range.max !== undefined
        ? ` from ${range.min} to ${range.max}`
        : range.min !== undefined
          ? ` ≥ ${range.min}`
          : "";
    throw new CliError(`${flag} takes an integer${bounds} (got "${value}")`, EXIT.USAGE);
  }
  return n;
}

/** `a,b, c` → ["a","b","c"]; an empty string is an empty list (to clear a field). */
export function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `5m`, `1h30m`, `2d`; a bare number is seconds. */
export function parseDuration(value: string | undefined, flag: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text)
    throw new CliError(`${flag} takes a duration like 30s, 5m, 1h or 2d (got "${value}")`, EXIT.USAGE);
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
}

/** An ISO time, or a duration meaning "that long ago" (`--since 1h`). */
export function parseInstant(
  value: string | undefined,
  flag: string,
  now = systemClock.now(),
): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (/^\d{4}-\d{2}-\d{2}/.test(value.trim())) {
    const ms = Date.parse(value.trim());
    if (Number.isNaN(ms)) throw new CliError(`${flag}: "${value}" is not a valid time`, EXIT.USAGE);
    return new Date(ms).toISOString();
  }
  const ago = parseDuration(value, flag)!;
  return new Date(now - ago).toISOString();
}

/** `on|off` and the usual spellings of yes and no. */
export function parseSwitch(value: string, what: string): boolean {
  const v = value.trim().toLowerCase();
  if (["on", "true", "1", "yes", "enable", "enabled"].includes(v)) return true;
  if (["off", "false", "0", "no", "disable", "disabled"].includes(v)) return false;
  throw new CliError(`${what} takes on or off (got "${value}")`, EXIT.USAGE);
}

/** "3m", "2h": ages read faster than timestamps in a table. Takes ISO text or epoch milliseconds. */
export function age(when: string | number | null | undefined, now = systemClock.now()): string {
  if (when === null || when === undefined || when === "") return "-";
  const ms = now - (typeof when === "number" ? when : Date.parse(when));
  if (Number.isNaN(ms)) return "-";
  return `${humanDuration(Math.max(0, ms))}`;
}

export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ""}`;
  return `${Math.floor(h / 24)}d`;
}
