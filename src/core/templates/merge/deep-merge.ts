export type PlainObject = Record<string, unknown>;

/** Maps and tables only: arrays, dates (TOML datetimes are Date subclasses) and other objects are values. */
export function isPlainObject(value: unknown): value is PlainObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

// A parsed `"__proto__"` key is ordinary data; plain assignment would hit the prototype setter instead.
function setOwn(target: PlainObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Recursive merge of maps: keys from both survive, the overlay wins on conflicts. Scalars and lists are
 * replaced whole by the overlay, as are maps meeting non-maps. Base key order is kept and new keys are
 * appended, so merged files stay diffable against their base.
 */
export function deepMerge(base: unknown, overlay: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(overlay)) return overlay;
  const merged: PlainObject = {};
  for (const key of Object.keys(base)) setOwn(merged, key, base[key]);
  for (const key of Object.keys(overlay)) {
    const value = Object.hasOwn(base, key) ? deepMerge(base[key], overlay[key]) : overlay[key];
    setOwn(merged, key, value);
  }
  return merged;
}
