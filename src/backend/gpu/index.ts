import { checkOptionKeys } from '../../util/options.js';
import type { Backend } from '../types.js';
import { chooseAuto } from './auto.js';
import { createGpuBackend, type GpuBackend } from './gpu-backend.js';
import { gpujs, useGpuConstructor } from './gpujs.js';
import { GPU_MODES, type GpuModeOption } from './probe.js';

export { createGpuBackend, ACTIVATION_CODES, KERNEL_FUNCTIONS, type GpuBackend, type GpuBackendOptions } from './gpu-backend.js';
export { probeMode, GPU_MODES, type GpuMode, type GpuModeOption, type ModeStatus } from './probe.js';
export { chooseAuto, type AutoChoice } from './auto.js';
export { gpujs, loadGpuBackend, setGpuJsLoader, GPU_INSTALL_COMMAND, type GpuJs, type GpuJsLoader } from './gpujs.js';
export { probeWebGpu, type AdapterInfo, type WebGpuProbe } from './webgpu-worker.js';

/** Options of `setBackend('gpu', options)`. */
export interface GpuSetOptions {
  /**
   * In Node `'headlessgl'`, `'webasm'`, `'webgpu'` (gpu.js's WebGPU kernels in a worker thread that owns the
   * device); in a browser `'webgl2'`, `'webgl'`; or `'auto'` (Node: a hardware GL driver, else a hardware
   * WebGPU adapter; browser: WebGL2 on a hardware renderer; else the CPU backend).
   */
  mode: GpuModeOption;
  /**
   * gpu.js' `GPU` constructor where the page already has it (`window.GPU` after gpu.js' browser script),
   * in place of `await loadGpuBackend()`.
   */
  GPU?: unknown;
  /** Compiled kernels kept alive; default 128 (see GpuBackendOptions.maxKernels). */
  maxKernels?: number;
}

let current: GpuBackend | null = null;

/** Destroys the kernels of the gpu.js backend `setBackend('gpu', …)` made last, if any. */
export function disposeGpuBackend(): void {
  current?.dispose();
  current = null;
}

/**
 * Builds the backend `setBackend('gpu', options)` activates; the gpu.js backend made before is disposed only once the new one exists.
 * A mode that cannot start throws with the reason; `'auto'` prints one line naming its choice. Without gpu.js
 * (an optional peer dependency) it throws naming the install command.
 */
export function makeGpuBackend(options: GpuSetOptions, cpu: () => Backend): Backend {
  checkOptionKeys("setBackend('gpu')", options, ['mode', 'maxKernels', 'GPU']);
  const { mode, maxKernels } = options;
  if (mode !== 'auto' && !GPU_MODES.includes(mode)) {
    throw new Error(`setBackend('gpu'): unknown mode '${String(mode)}'; known: ${GPU_MODES.join(', ')}, auto`);
  }
  if ('GPU' in options) useGpuConstructor(options.GPU, "setBackend('gpu')");
  // Before any probe: without gpu.js every mode fails, and the error should say how to install it.
  gpujs();
  let chosen = mode;
  if (mode === 'auto') {
    const choice = chooseAuto();
    console.log(choice.line);
    if (choice.mode === 'cpu') {
      disposeGpuBackend();
      return cpu();
    }
    chosen = choice.mode;
  }
  // Build first, dispose after: a mode that cannot start leaves the active backend usable.
  const next = createGpuBackend({ mode: chosen as Exclude<GpuModeOption, 'auto'>, maxKernels });
  disposeGpuBackend();
  current = next;
  return current;
}
