// The merge ops of the merge layers, one thread per output:
// add:          y = a + b
// extremum:     y = isMax ? max(a, b) : min(a, b)
// extremumGrad: da = dy where a wins or ties (a ≥ b for max, a ≤ b for min), else 0;  db = dy − da   (side 0: da, 1: db)
// concat2:      y[r, j] = j < A ? a[r, j] : b[r, j − A]      (A, B: row widths of a and b)
// sliceColumns: y[r, j] = x[r, O + j]                          (W: row width of x, w: of y, O: offset)
// A concatenation of more parts runs concat2 again on the result; its backward is one slice per part.

export interface ConcatConstants {
  A: number;
  B: number;
}

export interface SliceConstants {
  W: number;
  w: number;
  O: number;
}

export interface ExtremumConstants {
  isMax: number;
  side: number;
}

export function extremum(this: GpuKernelThis<ExtremumConstants>, a: Float32Array, b: Float32Array): number {
  if (this.constants.isMax === 1) return Math.max(a[this.thread.x], b[this.thread.x]);
  return Math.min(a[this.thread.x], b[this.thread.x]);
}

export function extremumGrad(this: GpuKernelThis<ExtremumConstants>, dy: Float32Array, a: Float32Array, b: Float32Array): number {
  const u = a[this.thread.x];
  const v = b[this.thread.x];
  let share = 0;
  if (this.constants.isMax === 1 && u >= v) share = 1;
  if (this.constants.isMax === 0 && u <= v) share = 1;
  if (this.constants.side === 1) share = 1 - share;
  return share * dy[this.thread.x];
}

export function add(this: GpuKernelThis<ConcatConstants>, a: Float32Array, b: Float32Array): number {
  return a[this.thread.x] + b[this.thread.x];
}

export function concat2(this: GpuKernelThis<ConcatConstants>, a: Float32Array, b: Float32Array): number {
  const t = this.thread.x;
  const width = this.constants.A + this.constants.B;
  const r = Math.floor(t / width);
  const j = t - r * width;
  if (j < this.constants.A) return a[r * this.constants.A + j];
  return b[r * this.constants.B + j - this.constants.A];
}

export function sliceColumns(this: GpuKernelThis<SliceConstants>, x: Float32Array): number {
  const t = this.thread.x;
  const r = Math.floor(t / this.constants.w);
  const j = t - r * this.constants.w;
  return x[r * this.constants.W + this.constants.O + j];
}
