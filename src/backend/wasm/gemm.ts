// C = op(A)·op(B) in the WebAssembly engine (asm/gemm.ts), split over its threads.
import { gemmReference, type Gemm } from '../gemm.js';
import type { JobArgs } from './engine-exports.generated.js';
import { align, getEngine, MAX_BYTES, reserve, runJobs, threads, THREAD_MIN_MACS, type Engine } from './engine.js';
import { stage } from './resident.js';

// asm/gemm.ts's register tile: a split of m or n stays a multiple of it.
const MR = 4;
const NR = 8;

/**
 * C[m×n] = op(A)·op(B), or += when accumulate (see {@link Gemm}), with a WebAssembly SIMD
 * kernel (packed panels, 4×8 register tile) split over worker threads that share its memory.
 * Synchronous: the calling thread takes a share and blocks on Atomics.wait for the rest.
 * Falls back to gemmReference where WebAssembly SIMD or shared memory is missing (engineInfo() says which runs).
 * @example
 * const c = new Float32Array(2 * 2);
 * gemmFast(false, false, 2, 2, 3, new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([1, 0, 0, 1, 1, 1]), c, false);
 * // c = [4, 5, 10, 11]
 */
export const gemmFast: Gemm = (transA, transB, m, n, k, a, b, c, accumulate) => {
  const e = getEngine();
  if (e === null) {
    gemmReference(transA, transB, m, n, k, a, b, c, accumulate);
    return;
  }
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) c.fill(0, 0, m * n);
    return;
  }
  run(e, transA, transB, m, n, k, a, b, c, accumulate);
};

function run(
  e: Engine, transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean,
): void {
  const macs = m * n * k;
  let t = macs < THREAD_MIN_MACS ? 1 : threads();
  // Split the dimension whose split repacks the least: m (each thread packs all of B),
  // n (each packs all of A), or k (partial sums reduced at the end) when m and n are both small.
  let split: 'm' | 'n' | 'k' = 'm';
  if (t > 1) {
    if (m >= n && m >= t * 4 * MR) split = 'm';
    else if (n >= t * 2 * NR) split = 'n';
    else if (m >= t * 4 * MR) split = 'm';
    else if (k >= t * 256) split = 'k';
    else t = 1;
  }
  const sizeA = m * k;
  const sizeB = k * n;
  const sizeC = m * n;
  const scratchA = align(e.workBase + t * e.workBytes, 64);
  const scratchB = align(scratchA + sizeA * 4, 64);
  const offC = align(scratchB + sizeB * 4, 64);
  const offP = align(offC + sizeC * 4, 64);
  const end = offP + (split === 'k' ? (t - 1) * align(sizeC * 4, 64) : 0);
  if (end > MAX_BYTES) {
    splitRows(e, transA, transB, m, n, k, a, b, c, accumulate);
    return;
  }
  reserve(e, end);
  const f32 = e.f32;
  // A resident operand (an op's output held in the engine's memory) is read where it is.
  const offA = stage(e, a.subarray(0, sizeA), scratchA);
  const offB = stage(e, b.subarray(0, sizeB), scratchB);
  if (accumulate) f32.set(c.subarray(0, sizeC), offC >> 2);
  const tA = transA ? 1 : 0;
  const tB = transB ? 1 : 0;
  const acc = accumulate ? 1 : 0;

  const jobs: JobArgs<'gemm'>[] = [];
  const ld = { a: transA ? m : k, b: transB ? k : n };
  // Each job's gemm workspace: the j-th thread's at workBase + j·workBytes.
  const work = (j: number) => e.workBase + j * e.workBytes;
  if (t === 1) {
    jobs.push([m, n, k, offA, ld.a, tA, offB, ld.b, tB, offC, n, acc, work(0)]);
  } else if (split === 'm') {
    const chunk = align(Math.ceil(m / t), MR);
    for (let i0 = 0; i0 < m; i0 += chunk) {
      const rows = Math.min(chunk, m - i0);
      const aSub = offA + (transA ? i0 : i0 * k) * 4;
      jobs.push([rows, n, k, aSub, ld.a, tA, offB, ld.b, tB, offC + i0 * n * 4, n, acc, work(jobs.length)]);
    }
  } else if (split === 'n') {
    const chunk = align(Math.ceil(n / t), NR);
    for (let j0 = 0; j0 < n; j0 += chunk) {
      const cols = Math.min(chunk, n - j0);
      const bSub = offB + (transB ? j0 * k : j0) * 4;
      jobs.push([m, cols, k, offA, ld.a, tA, bSub, ld.b, tB, offC + j0 * 4, n, acc, work(jobs.length)]);
    }
  } else {
    const chunk = Math.ceil(k / t);
    for (let p0 = 0; p0 < k; p0 += chunk) {
      const depth = Math.min(chunk, k - p0);
      const aSub = offA + (transA ? p0 * m : p0) * 4;
      const bSub = offB + (transB ? p0 : p0 * n) * 4;
      const first = p0 === 0;
      const cOut = first ? offC : offP + (jobs.length - 1) * align(sizeC * 4, 64);
      jobs.push([m, n, depth, aSub, ld.a, tA, bSub, ld.b, tB, cOut, n, first ? acc : 0, work(jobs.length)]);
    }
  }
  runJobs(e, 'gemm', jobs);
  if (split === 'k' && jobs.length > 1) {
    for (let j = 1; j < jobs.length; j++) e.wasm.addInto(offC, jobs[j][9], sizeC);
  }
  c.set(f32.subarray(offC >> 2, (offC >> 2) + sizeC));
}

// A product too large for 2 GiB of wasm memory: two halves of the rows, each a separate call.
function splitRows(
  e: Engine, transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean,
): void {
  if (m < 2) {
    gemmReference(transA, transB, m, n, k, a, b, c, accumulate);
    return;
  }
  const h = m >> 1;
  for (const [i0, rows] of [[0, h], [h, m - h]]) {
    let aSub: Float32Array;
    if (transA) {
      aSub = new Float32Array(k * rows);
      for (let p = 0; p < k; p++) aSub.set(a.subarray(p * m + i0, p * m + i0 + rows), p * rows);
    } else {
      aSub = a.subarray(i0 * k, (i0 + rows) * k);
    }
    run(e, transA, transB, rows, n, k, aSub, b, c.subarray(i0 * n, (i0 + rows) * n), accumulate);
  }
}
