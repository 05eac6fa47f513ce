// GFLOP/s of gemmReference vs gemmFast (1 and 2 threads) on the GEMM shapes of the seed CNN at
// batch 32: conv forward (im2col rows × filters), dW = colsᵀ·dY (transA), dCols = dY·Wᵀ (transB),
// and the Dense layer. Best of several timed runs after a warm-up. Then the Dense layer's inference
// product as the cpu backend runs it, B packed per call against B kept packed as a weight
// (src/backend/wasm/packed-weights.ts), in alternation (pairedRatio).
// Run: npx tsx bench/gemm.ts [--quick]
import { gemmReference, type Gemm } from '../src/backend/gemm.js';
import { getBackend, setBackend } from '../src/backend/index.js';
import { engineInfo, shutdownEngineThreads } from '../src/backend/wasm/engine.js';
import { gemmFast } from '../src/backend/wasm/gemm.js';
import { pairedRatio } from './harness.js';

interface Shape {
  name: string;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
}

const convs = [
  { rows: 320000, cols: 27, filters: 16 },
  { rows: 80000, cols: 144, filters: 32 },
  { rows: 20000, cols: 288, filters: 64 },
  { rows: 4608, cols: 576, filters: 128 },
];
const shapes: Shape[] = [];
for (const { rows, cols, filters } of convs) {
  shapes.push({ name: 'conv y=cols·W', transA: false, transB: false, m: rows, n: filters, k: cols });
  shapes.push({ name: 'conv dW=colsᵀ·dY', transA: true, transB: false, m: cols, n: filters, k: rows });
  shapes.push({ name: 'conv dCols=dY·Wᵀ', transA: false, transB: true, m: rows, n: cols, k: filters });
}
shapes.push({ name: 'dense y=x·W', transA: false, transB: false, m: 32, n: 150, k: 4608 });
shapes.push({ name: 'dense dW=xᵀ·dY', transA: true, transB: false, m: 4608, n: 150, k: 32 });
shapes.push({ name: 'dense dX=dY·Wᵀ', transA: false, transB: true, m: 32, n: 4608, k: 150 });

const quick = process.argv.includes('--quick');

function random(size: number): Float32Array {
  const x = new Float32Array(size);
  for (let i = 0; i < size; i++) x[i] = Math.random() * 2 - 1;
  return x;
}

function gflops(gemm: Gemm, s: Shape, a: Float32Array, b: Float32Array, c: Float32Array, budgetMs: number): number {
  gemm(s.transA, s.transB, s.m, s.n, s.k, a, b, c, false);
  let best = Infinity;
  const start = performance.now();
  for (let r = 0; r < 50 && (r < 3 || performance.now() - start < budgetMs); r++) {
    const t0 = performance.now();
    gemm(s.transA, s.transB, s.m, s.n, s.k, a, b, c, false);
    best = Math.min(best, performance.now() - t0);
  }
  return (2 * s.m * s.n * s.k) / (best * 1e6);
}

const rows: string[][] = [['shape', 'm', 'n', 'k', 'reference', 'fast 1T', 'fast 2T']];
for (const s of shapes) {
  const a = random(s.m * s.k);
  const b = random(s.k * s.n);
  const c = new Float32Array(s.m * s.n);
  const ref = quick ? NaN : gflops(gemmReference, s, a, b, c, 300);
  setBackend('cpu', { threads: 1 });
  const one = gflops(gemmFast, s, a, b, c, quick ? 150 : 600);
  setBackend('cpu', { threads: 2 });
  const two = gflops(gemmFast, s, a, b, c, quick ? 150 : 600);
  rows.push([s.name, `${s.m}`, `${s.n}`, `${s.k}`, ref.toFixed(1), one.toFixed(1), two.toFixed(1)]);
}

// Time per call ÷ time with B kept packed: > 1, keeping it packed is faster.
const dense = { m: 32, k: 4608, n: 150 };
const x = random(dense.m * dense.k);
const w = random(dense.k * dense.n);
const mm = getBackend().matmul;
// 20 calls a sample: one call (about a millisecond) is below the shared machine's scheduling noise.
const calls = (bVersion?: number) => () => {
  for (let i = 0; i < 20; i++) mm(x, w, dense.m, dense.k, dense.n, false, false, bVersion);
};
const kept = await pairedRatio('dense', calls(1), calls(), quick ? 15 : 41);
shutdownEngineThreads();

const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`engineInfo: ${JSON.stringify(engineInfo())}; GFLOP/s (2·m·n·k / best time)`);
for (const r of rows) console.log(r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  '));
console.log(`dense inference 32×4608×150 (2 threads): B packed per call ÷ B kept packed as a weight, median of ${kept.rounds} paired rounds of 20 calls each ${kept.median.toFixed(2)}× [${kept.min.toFixed(2)}, ${kept.max.toFixed(2)}]`);
