import { inNode, nodeBuiltin } from '../../util/node-builtins.js';
import { gpujs } from './gpujs.js';
import { probeWebGpu } from './webgpu-worker.js';

/**
 * gpu.js modes this backend runs: in Node 'headlessgl', 'webasm' and 'webgpu' (in a worker thread, since its
 * kernels are asynchronous); in a browser 'webgl2' and 'webgl' (the page's own WebGL context).
 */
export type GpuMode = 'headlessgl' | 'webasm' | 'webgpu' | 'webgl2' | 'webgl';

/** Every gpu.js mode, in the order errors list them. */
export const GPU_MODES: readonly GpuMode[] = ['headlessgl', 'webasm', 'webgpu', 'webgl2', 'webgl'];

/** Every mode `setBackend('gpu', { mode })` accepts. */
export type GpuModeOption = GpuMode | 'auto';

/** Whether a mode can start here, and if not, why. */
export interface ModeStatus {
  mode: GpuMode;
  available: boolean;
  reason: string;
  /**
   * For headlessgl: whether the GL driver is a software rasterizer (Mesa llvmpipe/softpipe, SwiftShader).
   * For webgpu: whether the adapter is a software one (lavapipe/llvmpipe, SwiftShader, a fallback adapter).
   */
  software?: boolean;
}

const SOFTWARE_DRIVERS = /swrast_dri|kms_swrast|llvmpipe|softpipe|swiftshader|lvp_icd|libvulkan_lvp/i;

/** The slice of a WebGL context the probe reads (the DOM's types are not in tscnn's compile). */
interface GlContext {
  readonly RENDERER: number;
  getParameter(name: number): unknown;
  getExtension(name: 'WEBGL_debug_renderer_info'): { readonly UNMASKED_RENDERER_WEBGL: number } | null;
  getExtension(name: 'WEBGL_lose_context'): { loseContext(): void } | null;
}

/**
 * The renderer behind a browser's WebGL context, from WEBGL_debug_renderer_info where the browser gives
 * it (Chromium does; Firefox and Safari may mask it), and whether it is a software one (SwiftShader, llvmpipe).
 */
export function webglRenderer(version: 'webgl2' | 'webgl'): { renderer: string; software: boolean } {
  const doc = (globalThis as { document?: { createElement(tag: 'canvas'): { getContext(kind: string): GlContext | null } } }).document;
  const gl = doc?.createElement('canvas').getContext(version) ?? null;
  if (!gl) return { renderer: 'unknown renderer', software: true };
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { renderer, software: SOFTWARE_DRIVERS.test(renderer) || !info };
}

/**
 * Which GL driver a headless GL context loaded. The `gl` package reports only "ANGLE" as its renderer,
 * so the driver is read from the shared objects mapped into this process after a context was made
 * (`readMaps`, /proc/self/maps by default). Where that cannot be read, the driver is taken for a
 * software one (so 'auto' does not pick it) and the reason says why, with the read's error.
 */
export function glDriver(readMaps: () => string = () => nodeBuiltin('node:fs', "setBackend('gpu')").readFileSync('/proc/self/maps', 'utf8')): { software: boolean; reason: string } {
  let maps: string;
  try {
    maps = readMaps();
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    return { software: true, reason: `headless GL on a driver of unknown kind, taken for a software rasterizer: reading /proc/self/maps failed (${why})` };
  }
  return SOFTWARE_DRIVERS.test(maps)
    ? { software: true, reason: 'headless GL on a software rasterizer (Mesa swrast/llvmpipe)' }
    : { software: false, reason: 'headless GL on a hardware driver' };
}

/**
 * Probes one mode without throwing. 'webgpu' asks Dawn for an adapter in a short-lived worker thread, once
 * per process (~0.1–0.3 s; Dawn prints its own warnings on stderr when it finds no usable Vulkan driver).
 */
export function probeMode(mode: GpuMode): ModeStatus {
  const { GPU } = gpujs('probeMode');
  if (mode === 'webgl2' || mode === 'webgl') {
    const supported = mode === 'webgl2' ? GPU.isWebGL2Supported : GPU.isWebGLSupported;
    if (!supported) {
      const why = inNode() ? `a browser mode (the page's ${mode === 'webgl2' ? 'WebGL2' : 'WebGL'} context); in Node use 'headlessgl'` : `this browser gives no ${mode === 'webgl2' ? 'WebGL2' : 'WebGL'} context (disabled, or no GPU and no software renderer)`;
      return { mode, available: false, reason: why };
    }
    const { renderer, software } = webglRenderer(mode);
    return { mode, available: true, reason: `${mode === 'webgl2' ? 'WebGL2' : 'WebGL'} on ${renderer}${software ? ', a software renderer' : ''}`, software };
  }
  if (!inNode()) {
    return { mode, available: false, reason: `'${mode}' is a Node mode (gpu.js ${mode === 'webgpu' ? 'on Dawn in a worker thread' : mode === 'webasm' ? 'WebAssembly kernels' : 'on the gl package'}); in a browser use 'webgl2' or 'webgl'` };
  }
  if (mode === 'webasm') {
    return GPU.isWebAssemblySupported
      ? { mode, available: true, reason: 'WebAssembly is available' }
      : { mode, available: false, reason: 'this Node has no WebAssembly' };
  }
  if (mode === 'webgpu') {
    const probe = probeWebGpu();
    if (!probe.available) return { mode, available: false, reason: probe.reason };
    const a = probe.adapter;
    const name = a.description || a.device || 'unnamed adapter';
    return {
      mode,
      available: true,
      reason: `WebGPU adapter '${name}' (vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'})${a.software ? ', a software adapter' : ''}`,
      software: a.software,
    };
  }
  if (!GPU.isHeadlessGLSupported) {
    return {
      mode,
      available: false,
      reason: "gpu.js found no headless GL: the optional 'gl' package is missing or unbuilt, or there is no X display (run under xvfb-run -a)",
    };
  }
  return { mode, available: true, ...glDriver() };
}
