// What the calling thread and the WebGPU device worker (webgpu-device-worker.ts) send each other.

/** Int32 words of the control buffer: the worker sets DONE to the seq it answered. */
export const DONE = 0;
/** Set by the worker as it exits: a caller blocked on DONE wakes and throws instead of waiting forever. */
export const DEAD = 1;
/** Int32 words of the control buffer. */
export const CTL_WORDS = 16;

/** What the WebGPU adapter says about itself. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software implementation (lavapipe/llvmpipe, SwiftShader, a fallback adapter), never a GPU. */
  software: boolean;
}

/** The worker's answer to a request. */
export interface Reply {
  seq: number;
  error?: string;
  /** The stack of the worker's error. */
  stack?: string;
  /** Kernels alive in the worker's gpu.js instance. */
  liveKernels: number;
  /** GPU buffers alive on the worker's WebGPU device (created and not destroyed). */
  deviceBuffers: number;
  /** Kernel results the worker keeps on the device for the running op. */
  heldResults: number;
  adapter?: AdapterInfo | null;
  reason?: string;
  /** Kernels whose queued runs failed since the last reply: the worker destroyed them (the caller sends their source again). */
  failed?: string[];
}

/** A kernel argument as the worker receives it: [0, offset, length] in the shared data buffer, or [1, result id]. */
export type WireArg = [0, number, number] | [1, number];

/**
 * A request to the worker; those with a seq are answered (a Reply with that seq), the others not (a
 * 'run' without a seq is a queued run: its failure is reported by the next answered request).
 */
export type Request =
  | { type: 'buffer'; buffer: SharedArrayBuffer; seq?: undefined }
  | { type: 'destroy'; key: string; seq?: undefined }
  | { type: 'release'; ids: number[]; seq?: undefined }
  | { type: 'init'; seq: number }
  | {
    type: 'run'; seq?: number; key: string; name: string; source?: string; size: number; constants?: Record<string, number>;
    args: WireArg[]; keep: boolean; id: number; out: number;
  }
  | { type: 'read'; seq: number; id: number; out: number }
  | { type: 'stats'; seq: number }
  | { type: 'sync'; seq: number }
  | { type: 'dispose'; seq: number };

/** The worker's workerData. */
export interface WebGpuWorkerData {
  ctlBuffer: SharedArrayBuffer;
  port: import('node:worker_threads').MessagePort;
  gpujsPath: string;
  contextPath: string;
  webgpuUrl: string;
  probeOnly: boolean;
  /** The TypeScript entry src/backend/worker-loader.mjs imports (running from source). */
  entry?: string;
}
