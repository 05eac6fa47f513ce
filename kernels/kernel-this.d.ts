// The `this` gpu.js gives a kernel function: the thread index and the constants it was compiled with.
// A global declaration so that kernel files need no imports (gpu.js parses their source text).
interface GpuKernelThis<C> {
  readonly thread: { readonly x: number; readonly y: number; readonly z: number };
  readonly constants: C;
}
