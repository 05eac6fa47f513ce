// y[t] = x[t]
// Uploads an array once, as a texture that several kernels of one op read (headlessgl pipeline mode).
// pack2: y = [a | b],  pack3: y = [a | b | c]  (A, B: lengths of a and b), so that the results an op
// returns together are read back at once.

/** No geometry: the output size is the array's length. */
export interface CopyConstants {
  n: number;
}

export function copy(this: GpuKernelThis<CopyConstants>, x: Float32Array): number {
  return x[this.thread.x];
}

export interface PackConstants {
  A: number;
  B: number;
}

export function pack2(this: GpuKernelThis<PackConstants>, a: Float32Array, b: Float32Array): number {
  const t = this.thread.x;
  if (t < this.constants.A) return a[t];
  return b[t - this.constants.A];
}

export function pack3(this: GpuKernelThis<PackConstants>, a: Float32Array, b: Float32Array, c: Float32Array): number {
  const t = this.thread.x;
  if (t < this.constants.A) return a[t];
  if (t < this.constants.A + this.constants.B) return b[t - this.constants.A];
  return c[t - this.constants.A - this.constants.B];
}

// copyRange: y[t] = x[t + off], one part of a packed result as its own array (it stays on the device).
export interface RangeConstants {
  off: number;
  /** Length of x: a kernel compiled for one input size reads others wrongly, so it is part of the kernel's key. */
  len: number;
}

export function copyRange(this: GpuKernelThis<RangeConstants>, x: Float32Array): number {
  return x[this.thread.x + this.constants.off];
}
