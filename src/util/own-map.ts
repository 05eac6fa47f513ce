// Maps keyed by strings that come from users (file and folder names, JSON keys, option keys).
// `key in obj` and `obj[key]` also see Object.prototype (`constructor`, `toString`,
// `__proto__`), and assigning `obj['__proto__']` replaces the prototype instead of adding a
// key; and JavaScript orders integer-like keys ('1', '2', '10') before all others in numeric
// order whatever the insertion order. These helpers keep both out of tscnn's data.

/** True when `key` is an own property of `obj` (never one inherited from Object.prototype). */
export function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** The own value at `key`, or undefined (never an inherited one such as `constructor`). */
export function getOwn<V>(obj: Readonly<Record<string, V>>, key: string): V | undefined {
  return hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * A plain object filled with `entries` by defining properties, so that a key named
 * `__proto__` is an ordinary own key rather than a prototype change. Read it with
 * {@link getOwn} or {@link valuesInOrder}: its key order is still JavaScript's (integer-like
 * keys first), so callers that need an order keep it separately, as a list of names.
 */
export function ownRecord<V>(entries: Iterable<readonly [string, V]>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * The values of `record` in the order of `names` (e.g. class counts in class-index order),
 * throwing naming `what` when a name is missing; never relies on the object's key order.
 */
export function valuesInOrder<V>(record: Readonly<Record<string, V>>, names: readonly string[], what: string): V[] {
  return names.map((name) => {
    if (!hasOwn(record, name)) throw new Error(`${what}: no entry for ${JSON.stringify(name)} (has: ${Object.keys(record).map((k) => JSON.stringify(k)).join(', ')})`);
    return record[name];
  });
}
