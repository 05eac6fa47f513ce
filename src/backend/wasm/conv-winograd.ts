// The parts of the Winograd convolutions that run in TypeScript: the F(4×4) filter transform
// (f64, packed for asm gemmPackedB) and the split of the tiles over the threads.
import { align, runJobs, type Engine } from './engine.js';
import type { Conv2DInfo } from '../../geometry.js';
import { resetCounter, useWinograd, useWinograd4, type Layout } from './conv-plan.js';

// G of F(4×4, 3×3) (points 0, 1, −1, ½, −2, ∞; Bᵀ and Aᵀ in asm/winograd4.ts).
const G4 = [
  [1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [-1 / 3, 1 / 3, -1 / 3], [-16 / 15, -8 / 15, -4 / 15], [1 / 15, -2 / 15, 4 / 15], [0, 0, 1],
];

/** Floats of the packed F(4×4) filter: 36 matrices cin × cout, cout padded to a multiple of 8. */
export function winograd4FilterFloats(cin: number, cout: number): number {
  return 36 * cin * align(cout, 8);
}

/**
 * U = G g Gᵀ (6 × 6, G = {@link G4}) of every 3×3 slice, as {@link winogradFilter} (same
 * `transpose`), written at byte `at` as 36 matrices [cin × cout], each as two halves of its rows
 * ([0, ⌊cin/2⌋) and the rest) packed for gemmPackedB: slivers of 8 output channels, each rows × 8,
 * zero-padded.
 */
export function winograd4Filter(e: Engine, w: Float32Array, C: number, F: number, transpose: boolean, at: number): void {
  const cin = transpose ? F : C;
  const cout = transpose ? C : F;
  const u = new Float32Array(e.memory.buffer, at, winograd4FilterFloats(cin, cout));
  u.fill(0);
  const per = cin * align(cout, 8);
  const half = cin >> 1;
  const g = new Float64Array(9);
  const t = new Float64Array(18);
  for (let c = 0; c < C; c++) {
    for (let f = 0; f < F; f++) {
      for (let k = 0; k < 9; k++) g[transpose ? 8 - k : k] = w[(k * C + c) * F + f];
      // t = G g (6 × 3), then U = t Gᵀ (6 × 6).
      for (let i = 0; i < 6; i++) {
        const r = G4[i];
        for (let j = 0; j < 3; j++) t[3 * i + j] = r[0] * g[j] + r[1] * g[3 + j] + r[2] * g[6 + j];
      }
      const p = transpose ? c : f;
      const q = transpose ? f : c;
      // Rows [0, half) and [half, cin) packed apart (asm/winograd4.ts sums them apart).
      const rows = q < half ? half : cin - half;
      const at8 = (q < half ? 0 : half * align(cout, 8)) + (p >> 3) * rows * 8 + (q < half ? q : q - half) * 8 + (p & 7);
      for (let i = 0; i < 6; i++) {
        const a = t[3 * i], b = t[3 * i + 1], d = t[3 * i + 2];
        for (let k = 0; k < 6; k++) {
          const r = G4[k];
          u[(6 * i + k) * per + at8] = r[0] * a + r[1] * b + r[2] * d;
        }
      }
    }
  }
}

/** A transformed filter held in a region of `engine`'s memory; mutated in place when redone. */
interface HeldFilter {
  engine: Engine;
  offset: number;
  bytes: number;
  C: number;
  F: number;
  version: number;
}

const heldFilters = new WeakMap<Float32Array, HeldFilter>();
// The region goes back when the filter array is collected (replaced by setWeights, or its model dropped).
const filterRegistry = new FinalizationRegistry<HeldFilter>((h) => h.engine.regions.release(h.bytes, h.offset));

/** Transforms and reuses of {@link heldWinograd4Filter} since the process started (tests check that the cache is used). */
export const heldFilterStats = { transforms: 0, reuses: 0 };

/**
 * Byte offset of winograd4Filter(w, C, F, forward) in a region of the engine's memory, kept there
 * while `w` (the same array) stays at `version` (src/layers/weight.ts) and transformed again
 * otherwise: the transform runs in f64 over every 3×3 slice, which costs more than the GEMMs of a
 * small layer. -1 where the memory has no room (the caller transforms into its scratch). Call it
 * before placing the op's scratch: a new region moves workBase.
 */
export function heldWinograd4Filter(e: Engine, w: Float32Array, C: number, F: number, version: number): number {
  let h = heldFilters.get(w);
  if (h && h.engine === e && h.C === C && h.F === F && h.version === version) {
    heldFilterStats.reuses++;
    return h.offset;
  }
  const bytes = winograd4FilterFloats(C, F) * 4;
  if (h && h.engine === e && h.bytes !== bytes) {
    e.regions.release(h.bytes, h.offset);
    h.offset = -1;
  }
  const offset = h && h.engine === e && h.offset >= 0 ? h.offset : e.regions.alloc(bytes);
  if (offset < 0) {
    if (h) {
      heldFilters.delete(w);
      filterRegistry.unregister(h);
    }
    return -1;
  }
  winograd4Filter(e, w, C, F, false, offset);
  heldFilterStats.transforms++;
  if (h) Object.assign(h, { engine: e, offset, bytes, C, F, version });
  else {
    h = { engine: e, offset, bytes, C, F, version };
    heldFilters.set(w, h);
    filterRegistry.register(w, h, h);
  }
  return offset;
}

/**
 * Packs the F(2×2) filter transform at byte `u` (16 matrices [cin × cout]) for gemmPackedB, right
 * after it (the room filterFloats gives the transform holds both), where asm winogradPacked takes
 * it (cin ≤ 256, cout ≤ 512); returns where the kernel reads U from (G_WT): the packed copy, or u.
 */
export function winograd2Packed(e: Engine, u: number, cin: number, cout: number): number {
  if (cin > 256 || cout > 512) return u;
  const at = u + align(16 * cin * cout * 4, 64);
  e.wasm.winogradFilterPack(u, cin, cout, at);
  return at;
}

// Runs convForwardWinograd (F(2×2)) or convForwardWinograd4 (F(4×4)) over all tiles of the
// convolution whose geometry is at lay.g; with `pooledAt` (see winogradPools),
// convForwardWinogradPool or convForwardWinograd4Pool writing the 2×2-pooled output there instead
// (and, F(2×2) only, its argmax at `argmaxAt` unless 0).
export function winogradRun(e: Engine, lay: Layout, batch: number, OH: number, OW: number, tb: number, four: boolean, pooledAt = 0, argmaxAt = 0): void {
  const m = four ? 4 : 2;
  // convForwardWinograd4Pool skips the tiles that only feed outputs the pool drops (odd OH or OW).
  const [eh, ew] = four && pooledAt ? [OH - (OH % 2), OW - (OW % 2)] : [OH, OW];
  const tiles = batch * Math.ceil(eh / m) * Math.ceil(ew / m);
  const work = (i: number) => lay.work + i * lay.threadBytes;
  // Every thread gets all the tiles and takes blocks of them from the counter at G_NEXT.
  resetCounter(e, lay);
  const threads = Math.max(1, Math.min(lay.t, Math.ceil(tiles / tb)));
  const each = Array.from({ length: threads }, (_, i) => i);
  if (four && pooledAt) runJobs(e, 'convForwardWinograd4Pool', each.map((i) => [lay.g, 0, tiles, work(i), tb, pooledAt]), true);
  else if (four) runJobs(e, 'convForwardWinograd4', each.map((i) => [lay.g, 0, tiles, work(i), tb]), true);
  else if (pooledAt) runJobs(e, 'convForwardWinogradPool', each.map((i) => [lay.g, 0, tiles, work(i), tb, pooledAt, argmaxAt]), true);
  else runJobs(e, 'convForwardWinograd', each.map((i) => [lay.g, 0, tiles, work(i), tb]), true);
}

/**
 * Whether a convolution and its max pool run as one Winograd pass, the pool taken in the output
 * transform: the convolution runs as Winograd and the pool is 2×2 at stride 2 without padding, so
 * that its windows lie inside the output tiles (F(2×2): one window a tile; F(4×4): four). With
 * `withArgmax` (training), in F(2×2) (convForwardWinogradPool) or, see useWinograd4TrainPool, F(4×4)
 * (convForwardWinograd4PoolArgmax); inference pools in F(4×4) (useWinograd4's `inferencePool`).
 */
export function winogradPools(info: Conv2DInfo, pool: Conv2DInfo, withArgmax = false): boolean {
  return useWinograd(info) && pool.filterHeight === 2 && pool.filterWidth === 2 && pool.strideHeight === 2 &&
    pool.strideWidth === 2 && pool.padTop === 0 && pool.padLeft === 0 && pool.padBottom === 0 && pool.padRight === 0;
}
