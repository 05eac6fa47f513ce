// The gpu backend's public shapes: its options, its traffic counters and what it adds to the op table.
import type { Backend } from '../types.js';
import type { GpuMode } from './probe.js';

/** Options of `createGpuBackend`. */
export interface GpuBackendOptions {
  /** gpu.js mode the kernels must run in. */
  mode: GpuMode;
  /**
   * Compiled kernels kept alive (least recently used are destroyed beyond it); default 128. The seed
   * model needs 72–81 per training step: at 64 the cache thrashed and recompiled ~70 kernels every
   * step (4× slower on headlessgl, 2× on webasm, measured at 32×32 batch 8; RSS 178 vs 184 MB).
   */
  maxKernels?: number;
}

/** Device traffic of a gpu backend: cumulative counts since it was made, and what it holds now. */
export interface GpuStats {
  /** Intermediate kernel results (headlessgl textures, webgpu buffers) the running op holds; 0 between ops (results it returns are device arrays, {@link residentArrays}). */
  liveTextures: number;
  /** GL textures alive in the backend's headless GL context (kernel outputs and argument textures); 0 in other modes. */
  deviceTextures: number;
  /** GPU buffers alive on the backend's WebGPU device (kernel outputs, arguments, uniforms, staging); 0 in other modes. */
  deviceBuffers: number;
  /** Kernel calls. */
  kernelRuns: number;
  /** Kernels compiled (a count that keeps growing in a steady loop means the kernel cache thrashes). */
  kernelsCompiled: number;
  /** Arrays copied from the host to the device (kernel arguments), and their bytes (the array's, not the padded texture's). */
  uploads: number;
  uploadBytes: number;
  /** Arrays copied from the device back to the host, and their bytes. */
  readbacks: number;
  readbackBytes: number;
  /** 'webgpu': requests to the device worker, each one blocking round trip (a kernel run or a readback). 0 in other modes. */
  workerRoundTrips: number;
  /** Device arrays alive (op results kept on the device: activations, gradients, weights, optimizer state), and their bytes. */
  residentArrays: number;
  residentBytes: number;
}

/** The gpu.js backend: the `Backend` op table plus what tests and tools inspect. */
export interface GpuBackend extends Backend {
  readonly mode: GpuMode;
  /** Kernels alive in gpu.js (compiled and not destroyed), including argument-type switches. */
  liveKernels(): number;
  /** The gpu.js kernel classes its kernels ran on so far, by gpu.js' names (e.g. `['WebGL2Kernel']`). */
  kernelClasses(): string[];
  /** Device traffic so far and device memory held now. */
  stats(): GpuStats;
  /** Destroys every kernel, texture and the gpu.js instance ('webgpu': also the device, and ends its worker). */
  dispose(): void;
}
