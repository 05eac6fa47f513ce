// The cpu backend's dropout: the reference's counter-based mask (src/backend/reference/dropout.ts, the
// specification) in the engine's i32x4 lanes over the threads (asm/dropout.ts), or in 32-bit integer
// operations here; both checked bit for bit against the reference by test/ops/dropout.test.ts.
import { outputF32 } from '../arena.js';
import { dropoutParams, type DropoutParams } from '../reference/dropout.js';
import { getEngine, reserve, runJobs } from '../wasm/engine.js';
import { elementRanges, place } from '../wasm/parts.js';
import { residentF32, result, scratchFor, stage } from '../wasm/resident.js';

// Below this many values the loop here is as fast as a call into the engine.
const WASM_MIN = 4096;
const BLOCK = 16777216;

// The 8 round keys of the counters' block `block` (one per 2²⁴ values).
function roundKeys(p: DropoutParams, block: number, keys: Int32Array): void {
  for (let r = 0; r < 8; r++) keys[r] = (p[0] * (2 * r + 1) + p[1] * (2 * r + 7) + (p[2] + block) * (r + 11) + r * 2731) % 4096;
}

/**
 * The cpu backend's dropout: the same bits as the reference's `referenceDropout` (masks and shifts
 * for the mods and power-of-two divisions, the round keys computed once per 2²⁴ block instead of
 * per element); in the engine where it runs, else in the loop below.
 */
export function dropoutFast(x: Float32Array, rate: number, seed: number): Float32Array {
  const p = dropoutParams(rate, seed);
  return (x.length >= WASM_MIN ? dropoutInEngine(x, p) : null) ?? dropoutLoop(x, p);
}

// asm dropoutApply over the threads, block by block; null where the engine cannot take it.
function dropoutInEngine(x: Float32Array, p: DropoutParams): Float32Array | null {
  const e = getEngine();
  if (e === null) return null;
  const n = x.length;
  const yRes = residentF32(e, n);
  const { offs, end } = place(e.workBase, [16, scratchFor(e, x), yRes ? 0 : n]);
  if (!reserve(e, end)) return null;
  const [offP] = offs;
  const offX = stage(e, x, offs[1]);
  const offY = yRes ? yRes.byteOffset : offs[2];
  const keys = new Int32Array(e.memory.buffer, offP, 10);
  keys[8] = p[3];
  new Float32Array(e.memory.buffer, offP + 36, 1)[0] = p[4];
  for (let start = 0; start < n; start += BLOCK) {
    roundKeys(p, start / BLOCK, keys);
    const count = Math.min(n, start + BLOCK) - start;
    runJobs(e, 'dropoutApply', elementRanges(count, n).map(([i0, i1]) => [offX, offY, start + i0, start + i1, start, offP]));
  }
  return result(e, yRes, offY, n);
}

function dropoutLoop(x: Float32Array, p: DropoutParams): Float32Array {
  const [, , , threshold, scale] = p;
  const y = outputF32(x.length);
  const keys = new Int32Array(8);
  for (let start = 0; start < x.length; start += BLOCK) {
    const block = start / BLOCK;
    roundKeys(p, block, keys);
    const [k0, k1, k2, k3, k4, k5, k6, k7] = keys;
    const end = Math.min(x.length, start + BLOCK);
    for (let i = start; i < end; i++) {
      const c = i - start;
      let L = c >>> 12;
      let R = c & 0xfff;
      let s: number;
      let t: number;
      s = (R + k0) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      s = (R + k1) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      s = (R + k2) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      s = (R + k3) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      s = (R + k4) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      s = (R + k5) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      s = (R + k6) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      s = (R + k7) & 0xfff;
      t = (L + ((s * s) >>> 6) + s) & 0xfff;
      L = R;
      R = t;
      y[i] = ((L << 12) | R) >= threshold ? x[i] * scale : 0;
    }
  }
  return y;
}
