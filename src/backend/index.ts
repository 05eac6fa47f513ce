import { referenceBackend, createCpuBackend } from './cpu.js';
import { gemmFast } from './wasm/gemm-fast.js';
import type { Backend } from './types.js';

export type { Backend, ActivationKind, BatchNormTrainResult } from './types.js';
export { createCpuBackend, referenceBackend } from './cpu.js';
export { gemmReference, type Gemm } from './gemm.js';
export { gemmFast, gemmInfo, setGemmThreads, shutdownGemmThreads } from './wasm/gemm-fast.js';

/** Names `setBackend` accepts. `'cpu'` is the fast default; `'reference'` the plain TypeScript specification. */
export type BackendName = 'cpu' | 'reference';

const backends: Record<BackendName, () => Backend> = {
  cpu: () => createCpuBackend('cpu', gemmFast),
  reference: () => referenceBackend,
};

let active: Backend | null = null;

/**
 * Selects the backend every layer and optimizer runs on from now on.
 *
 * @example
 * setBackend('reference'); // the plain TypeScript reference
 */
export function setBackend(name: BackendName): Backend {
  const make = backends[name];
  if (!make) throw new Error(`setBackend: unknown backend '${String(name)}'; known: ${Object.keys(backends).join(', ')}`);
  active = make();
  return active;
}

/** The backend that runs now (`'cpu'` unless `setBackend` chose another). */
export function getBackend(): Backend {
  return active ?? setBackend('cpu');
}

/** Every backend name that can run on this machine. */
export function listBackends(): BackendName[] {
  return Object.keys(backends) as BackendName[];
}
