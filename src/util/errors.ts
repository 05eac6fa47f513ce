/**
 * Runs `fn`; an error it throws is rethrown naming `op`, the public entry point the user
 * called, instead of an internal lookup (`getLoss: unknown loss` → `compile: unknown loss`).
 * Other prefixes (`SGD: learningRate …`) are kept after `op`. The original is the `cause`.
 */
export function renameErrors<T>(op: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    const message = e.message.startsWith(`${op}: `) ? e.message.slice(op.length + 2) : e.message.replace(/^get[A-Z]\w*: /, '');
    throw new Error(`${op}: ${message}`, { cause: e });
  }
}

/**
 * Throws naming `op` unless `values` holds one array per parameter, each of the parameter's
 * length and finite; run before any weight changes, so a short list changes nothing.
 */
export function checkWeightValues(op: string, params: readonly { name: string; value: Float32Array }[], values: unknown): void {
  if (!Array.isArray(values) || values.length !== params.length) {
    throw new Error(`${op}: the model has ${params.length} weights, got ${Array.isArray(values) ? `${values.length} arrays` : String(values)}`);
  }
  params.forEach((p, i) => {
    const v: unknown = values[i];
    if (!(v instanceof Float32Array) || v.length !== p.value.length) {
      throw new Error(`${op}: weight ${i} (${p.name}) has ${p.value.length} values, got ${v instanceof Float32Array ? v.length : String(v)}`);
    }
    const bad = v.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new Error(`${op}: weight ${i} (${p.name}) holds ${v[bad]} at index ${bad}; weights must be finite`);
  });
}
