// The finiteness test of a model's inputs, shared by the model's checks (src/model/data-args.ts)
// and the backends that test a held batch themselves (the cpu backend's `firstNonFinite`).

/** The index of the first NaN or ±Infinity in `values`, or -1. */
export function firstNonFinite(values: Float32Array): number {
  // A float32 is not finite when its 8 exponent bits are all ones: exponent + 1 reaches 256 only
  // then. Integer ops on the bits run faster in V8 than converting each value to a double.
  const bits = new Int32Array(values.buffer, values.byteOffset, values.length);
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n = bits.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 |= ((bits[i] >> 23) & 0xff) + 1;
    s1 |= ((bits[i + 1] >> 23) & 0xff) + 1;
    s2 |= ((bits[i + 2] >> 23) & 0xff) + 1;
    s3 |= ((bits[i + 3] >> 23) & 0xff) + 1;
  }
  for (; i < n; i++) s0 |= ((bits[i] >> 23) & 0xff) + 1;
  if (((s0 | s1 | s2 | s3) & 256) === 0) return -1;
  for (let j = 0; j < n; j++) if (!Number.isFinite(values[j])) return j;
  return -1;
}

/** The error for a non-finite value of `what` at `index` (`offset` added to the index it names). */
export function nonFiniteError(op: string, what: string, values: Float32Array, index: number, offset = 0): Error {
  return new Error(`${op}: ${what} contains ${values[index]} at flat index ${offset + index}; inputs must be finite`);
}
