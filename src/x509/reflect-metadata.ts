/**
 * Minimal stand-in for the `reflect-metadata` polyfill.
 *
 * @peculiar/x509 registers its algorithm providers through tsyringe, which refuses to load unless
 * `Reflect.getMetadata` exists. It only ever reads constructor parameter metadata (none is emitted
 * here) and its own injection-token map, so a WeakMap store is enough. Importing this module changes
 * nothing; `installReflectMetadataShim()` must run before @peculiar/x509 is loaded (see ./x509.ts). When a real polyfill has already been loaded, installing does
 * nothing; adding the `reflect-metadata` package (required before the library, as in ./x509.ts) would make the
 * shim unnecessary.
 */
type MetadataMap = Map<unknown, unknown>;
type ReflectWithMetadata = typeof Reflect & {
  getMetadata?: unknown;
  [name: string]: unknown;
};

const store = new WeakMap<object, Map<PropertyKey | undefined, MetadataMap>>();

function ownMap(target: object, property: PropertyKey | undefined, create: boolean): MetadataMap | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let map = byProperty.get(property);
  if (!map && create) {
    map = new Map();
    byProperty.set(property, map);
  }
  return map;
}

function getOwnMetadata(key: unknown, target: object, property?: PropertyKey): unknown {
  return ownMap(target, property, false)?.get(key);
}

function getMetadata(key: unknown, target: object, property?: PropertyKey): unknown {
  for (let current: object | null = target; current; current = Object.getPrototypeOf(current)) {
    const map = ownMap(current, property, false);
    if (map?.has(key)) return map.get(key);
  }
  return undefined;
}

function defineMetadata(key: unknown, value: unknown, target: object, property?: PropertyKey): void {
  ownMap(target, property, true)?.set(key, value);
}

/**
 * Installs the shim on the global `Reflect` (a process-wide side effect, done once and on purpose:
 * tsyringe looks for it there). Called by ./x509.ts before it loads the library; nothing happens on
 * import. Leaves an existing real polyfill alone. Returns whether it installed anything.
 */
export function installReflectMetadataShim(): boolean {
  const reflect = Reflect as ReflectWithMetadata;
  if (typeof reflect.getMetadata === "function") return false;
  Object.assign(reflect, {
    getMetadata,
    getOwnMetadata,
    defineMetadata,
    hasMetadata: (key: unknown, target: object, property?: PropertyKey) =>
      getMetadata(key, target, property) !== undefined,
    hasOwnMetadata: (key: unknown, target: object, property?: PropertyKey) =>
      ownMap(target, property, false)?.has(key) ?? false,
    metadata: (key: unknown, value: unknown) => (target: object, property?: PropertyKey) =>
      defineMetadata(key, value, target, property),
  });
  return true;
}
