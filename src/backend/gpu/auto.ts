import { inNode } from '../../util/node-builtins.js';
import { probeMode, type GpuMode } from './probe.js';

/** What `'auto'` chose and why. */
export interface AutoChoice {
  mode: GpuMode | 'cpu';
  line: string;
}

/**
 * Picks headless GL when it runs on a hardware driver, else WebGPU when its adapter is a hardware one,
 * otherwise the CPU backend. Software renderers (Mesa llvmpipe/swrast, lavapipe, SwiftShader, WebGPU
 * fallback adapters) and gpu.js's 'webasm' are never taken for a GPU: on them the CPU backend is faster.
 * WebGPU is probed only when headless GL gave no hardware driver (the probe starts a worker and loads Dawn).
 * In a browser: WebGL2 when its renderer is a hardware one (named by WEBGL_debug_renderer_info), else the CPU backend.
 */
export function chooseAuto(): AutoChoice {
  if (!inNode()) {
    const gl2 = probeMode('webgl2');
    if (gl2.available && !gl2.software) return { mode: 'webgl2', line: `tscnn: backend 'gpu' auto chose gpu.js 'webgl2' (${gl2.reason})` };
    const why = gl2.available ? `${gl2.reason}, or a renderer the browser does not name` : `webgl2 unavailable: ${gl2.reason}`;
    return { mode: 'cpu', line: `tscnn: backend 'gpu' auto chose the CPU backend (no hardware GPU: ${why})` };
  }
  const gl = probeMode('headlessgl');
  if (gl.available && !gl.software) return { mode: 'headlessgl', line: `tscnn: backend 'gpu' auto chose gpu.js 'headlessgl' (${gl.reason})` };
  const webgpu = probeMode('webgpu');
  if (webgpu.available && !webgpu.software) return { mode: 'webgpu', line: `tscnn: backend 'gpu' auto chose gpu.js 'webgpu' (${webgpu.reason})` };
  const glWhy = gl.available ? gl.reason : `headlessgl unavailable: ${gl.reason}`;
  const webgpuWhy = webgpu.available ? webgpu.reason : `webgpu unavailable: ${webgpu.reason}`;
  return { mode: 'cpu', line: `tscnn: backend 'gpu' auto chose the CPU backend (no hardware GPU: ${glWhy}; ${webgpuWhy})` };
}
