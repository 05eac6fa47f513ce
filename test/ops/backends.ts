// The backends every test/ops/<op>.test.ts body runs on, with the reference as the expected side:
// 'cpu' (WebAssembly kernels, GEMM fallbacks) and each gpu.js mode that starts here. A mode that
// cannot start is logged and skipped, unless TSCNN_GPU_REQUIRE lists it (comma-separated; 'webasm'
// is always required): then a failing test says why.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCpuBackend, referenceBackend } from '../../src/backend/index.js';
import { createGpuBackend, probeMode, type GpuBackend, type GpuMode } from '../../src/backend/gpu/index.js';
import type { Backend } from '../../src/backend/types.js';
import { convFast } from '../../src/backend/wasm/conv-fast.js';
import { gemmFast } from '../../src/backend/wasm/gemm.js';
import { assertClose, randomArray } from '../helpers.js';

/** The specification every backend is compared with. */
export const ref: Backend = referenceBackend;

const required = new Set(['webasm', ...(process.env.TSCNN_GPU_REQUIRE ?? '').split(',').map((s) => s.trim()).filter(Boolean)]);
const gpuModes: GpuMode[] = [];
for (const mode of ['webasm', 'headlessgl', 'webgpu'] as const) {
  const status = probeMode(mode);
  if (status.available) gpuModes.push(mode);
  else if (required.has(mode)) test(`[gpu:${mode}] required by TSCNN_GPU_REQUIRE starts`, () => assert.unreachable(`mode '${mode}' is required but cannot start: ${status.reason}`));
  else console.log(`test/ops: gpu mode '${mode}' SKIPPED: ${status.reason}`);
}

let cpu: Backend | null = null;
const gpus = new Map<GpuMode, GpuBackend>();

/** Names of the backends the op tests run on here, in order. */
export const backendNames: string[] = ['cpu', ...gpuModes.map((m) => `gpu:${m}`)];

function backend(name: string): Backend {
  if (name === 'cpu') return (cpu ??= createCpuBackend('cpu', gemmFast, convFast));
  const mode = name.slice(4) as GpuMode;
  let b = gpus.get(mode);
  if (!b) gpus.set(mode, (b = createGpuBackend({ mode })));
  return b;
}

/**
 * Registers `body` once per backend as `[name] op: title`; the backend is made when the test runs.
 *
 * @example
 * opTest('biasAdd', 'rows × channels', (b) => assertClose(b.biasAdd(x, bias, 3), ref.biasAdd(x, bias, 3), TOL));
 */
export function opTest(op: string, title: string, body: (b: Backend, name: string) => void): void {
  for (const name of backendNames) test(`[${name}] ${op}: ${title}`, () => body(backend(name), name));
}

/** Ends a test/ops file: disposes the gpu backends it made (a later file makes its own), then queues the file's tests. */
export function runOps(): void {
  test.after(() => {
    for (const b of gpus.values()) b.dispose();
    gpus.clear();
  });
  test.run();
}

let seed = 1000;
/** Fresh deterministic values in [lo, hi). */
export const rand = (n: number, lo = -1, hi = 1): Float32Array => randomArray(n, seed++, lo, hi);

/**
 * Runs one fused op call; on a gpu.js backend checks that the op read nothing back (its results are
 * device arrays, read when the test reads them) and holds no op texture afterwards.
 */
export function noReadback<T>(b: Backend, what: string, call: () => T): T {
  const g = 'stats' in b ? (b as GpuBackend) : null;
  const before = g?.stats().readbacks ?? 0;
  const out = call();
  if (g) assert.is(g.stats().readbacks - before, 0, `${what}: readbacks`);
  if (g) assert.is(g.stats().liveTextures, 0, `${what}: results held after the op`);
  return out;
}

/** Gradient sets the fused backward ops are asked for. */
export const NEEDS = [
  { dx: true, dw: true, db: true },
  { dx: false, dw: true, db: true },
  { dx: true, dw: false, db: false },
];

/** Each asked gradient close to the expected one, each other one null. */
export function assertGrads(
  got: Record<'dx' | 'dw' | 'db', Float32Array | null>, want: Record<'dx' | 'dw' | 'db', Float32Array | null>, what: string,
): void {
  for (const key of ['dx', 'dw', 'db'] as const) {
    if (!want[key]) assert.is(got[key], null, `${what} ${key} not asked for`);
    else assertClose(got[key]!, want[key]!, { atol: 1e-4, rtol: 1e-4 }, `${what} ${key}`);
  }
}
