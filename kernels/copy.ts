// y[t] = x[t]
// Uploads an array once, as a texture that several kernels of one op read (headlessgl pipeline mode).

/** No geometry: the output size is the array's length. */
export interface CopyConstants {
  n: number;
}

export function copy(this: GpuKernelThis<CopyConstants>, x: Float32Array): number {
  return x[this.thread.x];
}
