/** Keys whose values are secrets wherever they appear in a log record or an audit summary. */
export const SECRET_KEY_PATTERN =
  /pass(word)?|secret|token|authorization|cookie|private[-_]?key|credential|jwt/i;

/** `mongodb://user:pw@host` → `mongodb://user:***@host`; leaves URIs without credentials alone. */
export function redactUri(uri: string): string {
  return uri.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)([^:@/]*):([^@/]*)@/i,
    (_m, scheme: string, user: string) => `${scheme}${user}:***@`,
  );
}

/** Deep copy with secret-looking keys masked; cycles and depth bounded so it can never hang a log call. */
export function redactSecrets(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > 8 || seen.has(value)) return "[…]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      SECRET_KEY_PATTERN.test(k) && v !== null && v !== undefined && v !== ""
        ? "***"
        : redactSecrets(v, depth + 1, seen);
  }
  return out;
}
