// Weight matrices packed once into the engine's memory (asm packB) and multiplied without packing
// (asm gemmPrepacked) while the weight's version holds (src/layers/weight.ts): an inference
// matmul by a Dense kernel otherwise copies the whole kernel into the memory and packs it again
// on every call (the seed model's 4608×150 kernel: 2.8 MB per predict batch).
import type { JobArgs } from './engine-exports.generated.js';
import { align, getEngine, MAX_BYTES, reserve, runJobs, threads, THREAD_MIN_MACS, type Engine } from './engine.js';
import { copyOut, stage, scratchFor } from './resident.js';

// asm/gemm.ts's register tile: a split of m or n stays a multiple of it.
const MR = 4;
const NR = 8;
/** Kernels smaller than this many floats are packed per call as before: little to save, memory to hold. */
const MIN_FLOATS = 1 << 15;

/** A packed copy in the memory of `engine`; mutated in place when repacked (the registry holds it). */
interface Packed {
  engine: Engine;
  offset: number;
  bytes: number;
  k: number;
  n: number;
  version: number;
}

const packed = new WeakMap<Float32Array, Packed>();
// The region goes back when the weight array is collected (replaced by setWeights, or its model dropped).
const registry = new FinalizationRegistry<Packed>((p) => p.engine.regions.release(p.bytes, p.offset));

/** Packs and reuses of {@link matmulWeight} since the process started (tests check that the cache is used). */
export const packedWeightStats = { packs: 0, reuses: 0 };

/**
 * `b` packed in the current engine's memory for (k, n) at `version`, packing it when the copy
 * there is missing, of another shape or version, or in a replaced engine; null where the
 * memory has no room.
 */
function packedCopy(e: Engine, b: Float32Array, k: number, n: number, version: number): Packed | null {
  let p = packed.get(b);
  if (p && p.engine === e && p.k === k && p.n === n && p.version === version) {
    packedWeightStats.reuses++;
    return p;
  }
  const bytes = e.wasm.packedBFloats(k, n) * 4;
  if (p && p.engine === e && p.bytes !== bytes) {
    e.regions.release(p.bytes, p.offset);
    p.offset = -1;
  }
  let offset = p && p.engine === e ? p.offset : -1;
  if (offset < 0) offset = e.regions.alloc(bytes);
  if (offset < 0) {
    if (p) packed.delete(b);
    if (p) registry.unregister(p);
    return null;
  }
  // packB reads b where it is held (a model's weight, src/backend/wasm/resident.ts holdResident),
  // else from a copy in the scratch above the regions: alloc may have moved workBase up.
  const scratch = align(e.workBase, 64);
  if (!reserve(e, scratch + scratchFor(e, b.subarray(0, k * n)) * 4)) {
    e.regions.release(bytes, offset);
    if (p) packed.delete(b);
    if (p) registry.unregister(p);
    return null;
  }
  e.wasm.packB(stage(e, b.subarray(0, k * n), scratch), n, k, n, offset);
  packedWeightStats.packs++;
  if (p) Object.assign(p, { engine: e, offset, bytes, k, n, version });
  else {
    p = { engine: e, offset, bytes, k, n, version };
    packed.set(b, p);
    registry.register(b, p, p);
  }
  return p;
}

/**
 * C [m×n] = A [m×k] · B [k×n] where B is a weight at `version` (src/layers/weight.ts): B stays
 * packed in the engine's memory between calls while the version holds. Null where this path
 * does not apply (no engine, a small B, no room): the caller runs the ordinary GEMM.
 *
 * @example
 * const y = matmulWeight(x, kernel, 32, 4608, 150, weightVersion(param)!) ?? gemmMatmul(…);
 */
export function matmulWeight(a: Float32Array, b: Float32Array, m: number, k: number, n: number, version: number): Float32Array | null {
  const e = getEngine();
  if (e === null || k * n < MIN_FLOATS || m === 0) return null;
  const p = packedCopy(e, b, k, n, version);
  if (p === null) return null;
  let t = m * n * k < THREAD_MIN_MACS ? 1 : threads();
  let split: 'm' | 'n' = 'n';
  if (t > 1) {
    if (n >= t * 2 * NR) split = 'n';
    else if (m >= t * 4 * MR) split = 'm';
    else t = 1;
  }
  const offA = align(e.workBase + t * e.workBytes, 64);
  const offC = align(offA + scratchFor(e, a) * 4, 64);
  const offNext = offC + align(m * n * 4, 64);
  if (offNext + 4 > MAX_BYTES || !reserve(e, offNext + 4)) return null;
  const aAt = stage(e, a, offA);
  const nPad = p.bytes / 4 / k;
  const work = (j: number) => e.workBase + j * e.workBytes;
  if (split === 'n' && m % MR === 0) {
    // Slivers of columns taken from a counter as the threads come free, A read where it is.
    new Int32Array(e.memory.buffer)[offNext >> 2] = 0;
    runJobs(e, 'gemmPrepackedSlivers', Array.from({ length: t }, (_, j) => [m, n, k, aAt, k, p.offset, nPad, offC, n, offNext, work(j)]), true);
    return copyOut(e, offC, m * n);
  }
  const jobs: JobArgs<'gemmPrepacked'>[] = [];
  if (t === 1) {
    jobs.push([m, n, k, aAt, k, p.offset, nPad, 0, offC, n, 0, work(0)]);
  } else if (split === 'n') {
    const chunk = align(Math.ceil(n / t), NR);
    for (let j0 = 0; j0 < n; j0 += chunk) {
      jobs.push([m, Math.min(chunk, n - j0), k, aAt, k, p.offset, nPad, j0, offC + j0 * 4, n, 0, work(jobs.length)]);
    }
  } else {
    const chunk = align(Math.ceil(m / t), MR);
    for (let i0 = 0; i0 < m; i0 += chunk) {
      jobs.push([Math.min(chunk, m - i0), n, k, aAt + i0 * k * 4, k, p.offset, nPad, 0, offC + i0 * n * 4, n, 0, work(jobs.length)]);
    }
  }
  runJobs(e, 'gemmPrepacked', jobs);
  return copyOut(e, offC, m * n);
}

/**
 * The weights whose packed copy claims their current `version` but no longer equals their
 * values: a writer changed them without counting (src/layers/weight.ts). For tests.
 *
 * @example
 * stalePackedWeights([{ values: weightValues(p), version: weightVersion(p)! }]); // [] when every writer counted
 */
export function stalePackedWeights(weights: readonly { values: Float32Array; version: number }[]): Float32Array[] {
  const e = getEngine();
  const stale: Float32Array[] = [];
  for (const { values: b, version } of weights) {
    const p = packed.get(b);
    if (!e || !p || p.engine !== e || p.version !== version) continue;
    const src = align(e.workBase, 64);
    const fresh = align(src + p.k * p.n * 4, 64);
    if (!reserve(e, fresh + p.bytes)) throw new Error(`stalePackedWeights: no room to repack a ${p.k}×${p.n} weight`);
    e.f32.set(b.subarray(0, p.k * p.n), src >> 2);
    e.wasm.packB(src, p.n, p.k, p.n, fresh);
    const held = e.f32.subarray(p.offset >> 2, (p.offset + p.bytes) >> 2);
    const now = e.f32.subarray(fresh >> 2, (fresh + p.bytes) >> 2);
    if (held.some((v, i) => !Object.is(v, now[i]))) stale.push(b);
  }
  return stale;
}
