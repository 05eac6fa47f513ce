// The gpu.js modes the gpu tests run: those that start here. A mode that cannot start is logged and
// skipped, unless TSCNN_GPU_REQUIRE lists it (comma-separated; 'webasm' is always required): then a
// failing test says why. 'webgpu' runs where Dawn finds a Vulkan adapter (README "WebGPU": Mesa 25's
// lavapipe on Debian 12 without a GPU). Per-op checks live in test/ops/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { probeMode, type GpuMode } from '../../src/backend/gpu/index.js';
import { randomArray } from '../helpers.js';

const required = new Set(['webasm', ...(process.env.TSCNN_GPU_REQUIRE ?? '').split(',').map((s) => s.trim()).filter(Boolean)]);

/** The modes that start here, in order. */
export const modes: GpuMode[] = [];
for (const mode of ['webasm', 'headlessgl', 'webgpu'] as const) {
  const status = probeMode(mode);
  if (status.available) modes.push(mode);
  else if (required.has(mode)) test(`[${mode}] required by TSCNN_GPU_REQUIRE starts`, () => assert.unreachable(`mode '${mode}' is required but cannot start: ${status.reason}`));
  else console.log(`test/gpu: mode '${mode}' SKIPPED: ${status.reason}`);
}

let seed = 1;
/** Fresh deterministic values in [lo, hi). */
export const rand = (n: number, lo = -1, hi = 1): Float32Array => randomArray(n, seed++, lo, hi);
