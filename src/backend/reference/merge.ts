// The merge ops of the merge layers: element-wise sum (Add, Average), p·a + q·b (Subtract, Average),
// max / min (Maximum, Minimum), and concatenation of row blocks with its backward (slicing the
// rows apart again). A concatenation along any axis is this one: with `rows` = the product of the axes before it, each part is [rows, width] where width =
// its length along the axis times the product of the axes after it.
import { outputF32 } from '../arena.js';
import type { ExtremumKind } from '../types.js';

/** y = a + b, element-wise. */
export function add(a: Float32Array, b: Float32Array): Float32Array {
  const y = outputF32(a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i] + b[i];
  return y;
}

/** y [rows, Σ widths]: row r is row r of every part in turn; part i is [rows, widths[i]]. */
export function concat(parts: readonly Float32Array[], rows: number, widths: readonly number[]): Float32Array {
  const total = widths.reduce((a, b) => a + b, 0);
  const y = outputF32(rows * total);
  for (let r = 0; r < rows; r++) {
    let at = r * total;
    for (let i = 0; i < parts.length; i++) {
      const w = widths[i];
      const part = parts[i];
      for (let j = 0; j < w; j++) y[at + j] = part[r * w + j];
      at += w;
    }
  }
  return y;
}

/** The gradients of {@link concat}: dy [rows, Σ widths] cut back into parts [rows, widths[i]]. */
export function concatBackward(dy: Float32Array, rows: number, widths: readonly number[]): Float32Array[] {
  const total = widths.reduce((a, b) => a + b, 0);
  let offset = 0;
  return widths.map((w) => {
    const dx = outputF32(rows * w);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < w; j++) dx[r * w + j] = dy[r * total + offset + j];
    }
    offset += w;
    return dx;
  });
}

/** y = p·a + q·b, element-wise. */
export function combine(a: Float32Array, b: Float32Array, p: number, q: number): Float32Array {
  const y = outputF32(a.length);
  for (let i = 0; i < a.length; i++) y[i] = p * a[i] + q * b[i];
  return y;
}

/** y = max(a, b) or min(a, b), element-wise. */
export function extremum(kind: ExtremumKind, a: Float32Array, b: Float32Array): Float32Array {
  const y = outputF32(a.length);
  if (kind === 'max') for (let i = 0; i < a.length; i++) y[i] = a[i] >= b[i] ? a[i] : b[i];
  else for (let i = 0; i < a.length; i++) y[i] = a[i] <= b[i] ? a[i] : b[i];
  return y;
}

/** dy to a where a wins or ties (TF's maximum/minimum gradients: greaterEqual / lessEqual), else to b. */
export function extremumBackward(kind: ExtremumKind, dy: Float32Array, a: Float32Array, b: Float32Array): { da: Float32Array; db: Float32Array } {
  const da = outputF32(dy.length);
  const db = outputF32(dy.length);
  for (let i = 0; i < dy.length; i++) {
    const toA = kind === 'max' ? a[i] >= b[i] : a[i] <= b[i];
    da[i] = toA ? dy[i] : 0;
    db[i] = toA ? 0 : dy[i];
  }
  return { da, db };
}
