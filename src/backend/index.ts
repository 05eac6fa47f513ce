import { createCpuBackend } from './cpu/index.js';
import { referenceBackend } from './reference/index.js';
import { gemmFast } from './wasm/gemm.js';
import { convFast } from './wasm/conv-fast.js';
import { applyCpuConfig, cpuConfig, resolveCpuConfig, type CpuBackendConfig, type CpuBackendOptions } from './config.js';
import { engineInfo, type EngineInfo } from './wasm/engine.js';
import type { Backend } from './types.js';
import { disposeGpuBackend, makeGpuBackend, type GpuSetOptions } from './gpu/index.js';

export type { Backend, ActivationKind, BatchNormTrainResult } from './types.js';
export { createCpuBackend } from './cpu/index.js';
export { referenceBackend } from './reference/index.js';
export { gemmReference, type Gemm } from './gemm.js';
export { loadGpuBackend } from './gpu/gpujs.js';
export { gemmFast } from './wasm/gemm.js';
export { engineInfo, shutdownEngineThreads, startEngineThreads, type EngineInfo } from './wasm/engine.js';
export type { CpuBackendConfig, CpuBackendOptions, RelaxedSimdSetting, WinogradSetting } from './config.js';

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
let activeName: BackendName | null = null;

/**
 * Selects the backend every layer and optimizer runs on from now on. `'cpu'` takes the engine's
 * settings ({@link CpuBackendOptions}: threads, winograd, relaxedSimd, residentOutputs); each one
 * left out comes from its environment variable, else its default, read now. A bad option or
 * environment value throws here and changes nothing. `'gpu'` takes `{ mode, maxKernels }`.
 *
 * @example
 * setBackend('cpu', { threads: 4, winograd: 0 }); // four threads, im2col + GEMM convolutions
 * setBackend('reference'); // the plain TypeScript reference
 * setBackend('gpu', { mode: 'webasm' }); // gpu.js kernels compiled to WebAssembly
 */
export function setBackend(name: 'cpu', options?: CpuBackendOptions): Backend;
export function setBackend(name: 'gpu', options?: GpuSetOptions): Backend;
export function setBackend(name: BackendName, options?: CpuBackendOptions | GpuSetOptions): Backend;
export function setBackend(name: BackendName, options?: CpuBackendOptions | GpuSetOptions): Backend {
  if (name === 'gpu') {
    active = makeGpuBackend((options as GpuSetOptions | undefined) ?? { mode: 'auto' }, () => backends.cpu());
    activeName = 'gpu';
    return active;
  }
  const make = backends[name as Exclude<BackendName, 'gpu'>];
  if (!make) throw new Error(`setBackend: unknown backend '${String(name)}'; known: ${[...Object.keys(backends), 'gpu'].join(', ')}`);
  let config: CpuBackendConfig | null = null;
  if (name === 'cpu') config = resolveCpuConfig(options as CpuBackendOptions | undefined);
  else if (options !== undefined) throw new Error(`setBackend: backend '${name}' takes no options, got ${JSON.stringify(options)}`);
  const next = make();
  if (config) applyCpuConfig(config);
  disposeGpuBackend();
  active = next;
  activeName = name;
  return active;
}

/** What {@link getBackendConfig} returns. */
export interface BackendConfig {
  /** The active backend's name. */
  backend: BackendName;
  /** The `cpu` engine's effective settings (also behind the `gpu` backend's CPU fallback ops). */
  cpu: Readonly<CpuBackendConfig>;
  /** What the engine runs on (SIMD or not, relaxed SIMD or not, threads, memory). */
  engine: EngineInfo;
}

/**
 * The effective settings: the active backend, the `cpu` engine's resolved options and what it runs on.
 * @example
 * setBackend('cpu', { threads: 2 });
 * getBackendConfig().cpu.threads; // 2
 */
export function getBackendConfig(): BackendConfig {
  getBackend();
  return { backend: activeName ?? 'cpu', cpu: cpuConfig(), engine: engineInfo() };
}

/**
 * Runs fn and frees the device memory of the arrays the active backend's ops made inside it when it
 * returns (gpu backend), except state updated in place (weights, gradients, optimizer slots). For loops
 * written by hand around backend ops; a model's training step runs in one already. Values read inside
 * fn stay readable; a result never read must be read inside fn. The CPU backends just run fn.
 *
 * @example
 * const loss = tidy(() => lossOf(model, x, y)); // intermediates on the device are freed here
 */
export function tidy<T>(fn: () => T): T {
  return getBackend().scope(fn);
}

/** The backend that runs now (`'cpu'` unless `setBackend` chose another). */
export function getBackend(): Backend {
  return active ?? setBackend('cpu');
}

/** Every backend name that can run on this machine without options (`'gpu'` is chosen explicitly, with a mode). */
export function listBackends(): BackendName[] {
  return Object.keys(backends) as Exclude<BackendName, 'gpu'>[];
}
