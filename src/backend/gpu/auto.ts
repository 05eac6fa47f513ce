import { probeMode, type GpuMode } from './probe.js';

/** What `'auto'` chose and why. */
export interface AutoChoice {
  mode: GpuMode | 'cpu';
  line: string;
}

/**
 * Picks headless GL when it runs on a hardware driver, otherwise the CPU backend. Software rasterizers
 * (Mesa llvmpipe/swrast, SwiftShader) and gpu.js's 'webasm' are never taken for a GPU: on them the CPU
 * backend is faster. WebGPU is not probed (its adapter request is asynchronous).
 */
export function chooseAuto(): AutoChoice {
  const gl = probeMode('headlessgl');
  if (gl.available && !gl.software) return { mode: 'headlessgl', line: `tscnn: backend 'gpu' auto chose gpu.js 'headlessgl' (${gl.reason})` };
  const why = gl.available ? gl.reason : `headlessgl unavailable: ${gl.reason}`;
  return { mode: 'cpu', line: `tscnn: backend 'gpu' auto chose the CPU backend (no hardware GPU: ${why})` };
}
