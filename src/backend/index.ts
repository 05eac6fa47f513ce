import { createCpuBackend } from './cpu/index.js';
import { referenceBackend } from './reference/index.js';
import { gemmFast } from './wasm/gemm-fast.js';
import { convFast } from './wasm/conv-fast.js';
import type { Backend } from './types.js';
import { disposeGpuBackend, makeGpuBackend, type GpuSetOptions } from './gpu/index.js';

export type { Backend, ActivationKind, BatchNormTrainResult } from './types.js';
export { createCpuBackend } from './cpu/index.js';
export { referenceBackend } from './reference/index.js';
export { gemmReference, type Gemm } from './gemm.js';
export { loadGpuBackend } from './gpu/gpujs.js';
export { gemmFast, gemmInfo, setGemmThreads, shutdownGemmThreads } from './wasm/gemm-fast.js';

/**
 * Names `setBackend` accepts. `'cpu'` is the fast default; `'reference'` the plain TypeScript specification;
 * `'gpu'` runs gpu.js kernels in the mode given as `setBackend('gpu', { mode })`; gpu.js is an optional peer
 * dependency (`npm install gpu.js`), loaded on that call.
 */
export type BackendName = 'cpu' | 'reference' | 'gpu';

const backends: Record<Exclude<BackendName, 'gpu'>, () => Backend> = {
  cpu: () => createCpuBackend('cpu', gemmFast, convFast),
  reference: () => referenceBackend,
};

let active: Backend | null = null;

/**
 * Selects the backend every layer and optimizer runs on from now on.
 *
 * @example
 * setBackend('reference'); // the plain TypeScript reference
 * setBackend('gpu', { mode: 'webasm' }); // gpu.js kernels compiled to WebAssembly
 */
export function setBackend(name: BackendName, options?: GpuSetOptions): Backend {
  if (name === 'gpu') {
    active = makeGpuBackend(options ?? { mode: 'auto' }, () => backends.cpu());
    return active;
  }
  if (options !== undefined) throw new Error(`setBackend: backend '${name}' takes no options, got ${JSON.stringify(options)}`);
  const make = backends[name as Exclude<BackendName, 'gpu'>];
  if (!make) throw new Error(`setBackend: unknown backend '${String(name)}'; known: ${Object.keys(backends).join(', ')}`);
  disposeGpuBackend();
  active = make();
  return active;
}

/** The backend that runs now (`'cpu'` unless `setBackend` chose another). */
export function getBackend(): Backend {
  return active ?? setBackend('cpu');
}

/** Every backend name that can run on this machine without options (`'gpu'` is chosen explicitly, with a mode). */
export function listBackends(): BackendName[] {
  return Object.keys(backends) as Exclude<BackendName, 'gpu'>[];
}
