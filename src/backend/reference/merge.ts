// The merge ops of the Add and Concatenate layers: element-wise sum, and concatenation of row
// blocks with its backward (slicing the rows apart again). A concatenation along any axis is this
// one: with `rows` = the product of the axes before it, each part is [rows, width] where width =
// its length along the axis times the product of the axes after it.
import { outputF32 } from '../arena.js';

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
