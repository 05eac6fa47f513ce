import { readFileSync } from 'node:fs';
import { GPU } from 'gpu.js';

/** gpu.js modes this backend runs: synchronous ones only, since the op table returns arrays. */
export type GpuMode = 'headlessgl' | 'webasm';

/** Every mode `setBackend('gpu', { mode })` accepts. */
export type GpuModeOption = GpuMode | 'webgpu' | 'auto';

/** Whether a mode can start here, and if not, why. */
export interface ModeStatus {
  mode: GpuMode | 'webgpu';
  available: boolean;
  reason: string;
  /** For headlessgl: whether the GL driver is a software rasterizer (Mesa llvmpipe/softpipe, SwiftShader). */
  software?: boolean;
}

const SOFTWARE_DRIVERS = /swrast_dri|kms_swrast|llvmpipe|softpipe|swiftshader|lvp_icd|libvulkan_lvp/i;

/**
 * Which GL driver a headless GL context loaded. The `gl` package reports only "ANGLE" as its renderer,
 * so the driver is read from the shared objects mapped into this process after a context was made.
 */
function glDriverIsSoftware(): boolean {
  try {
    return SOFTWARE_DRIVERS.test(readFileSync('/proc/self/maps', 'utf8'));
  } catch {
    return true;
  }
}

/** Probes one mode without throwing. */
export function probeMode(mode: GpuMode | 'webgpu'): ModeStatus {
  if (mode === 'webasm') {
    return GPU.isWebAssemblySupported
      ? { mode, available: true, reason: 'WebAssembly is available' }
      : { mode, available: false, reason: 'this Node has no WebAssembly' };
  }
  if (mode === 'webgpu') {
    return {
      mode,
      available: false,
      reason: 'webgpu kernels read back asynchronously and the op table is synchronous; not supported by this backend yet',
    };
  }
  if (!GPU.isHeadlessGLSupported) {
    return {
      mode,
      available: false,
      reason: "gpu.js found no headless GL: the optional 'gl' package is missing or unbuilt, or there is no X display (run under xvfb-run -a)",
    };
  }
  const software = glDriverIsSoftware();
  return { mode, available: true, reason: software ? 'headless GL on a software rasterizer (Mesa swrast/llvmpipe)' : 'headless GL on a hardware driver', software };
}
