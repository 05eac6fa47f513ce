// The merge ops of the Add and Concatenate layers, one thread per output:
// add:          y = a + b
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
