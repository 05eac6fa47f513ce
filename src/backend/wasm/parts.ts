// How the fast ops place operands in the engine's memory and split work over the threads.
import { align, threads, THREAD_MIN_MACS } from './engine.js';

/**
 * Places arrays of 4-byte elements one after another from byte `at`, each 64-aligned; returns
 * their byte offsets and the end.
 */
export function place(at: number, sizes: number[]): { offs: number[]; end: number } {
  const offs: number[] = [];
  for (const size of sizes) {
    offs.push(at);
    at = align(at + size * 4, 64);
  }
  return { offs, end: at };
}

/** [start, end) of `count` units split into t near-equal ranges, starts multiples of `grain`; one empty range for none. */
export function ranges(count: number, t: number, grain = 1): [number, number][] {
  const chunk = align(Math.ceil(count / t), grain);
  const out: [number, number][] = [];
  for (let s = 0; s < count; s += chunk) out.push([s, Math.min(count, s + chunk)]);
  if (out.length === 0) out.push([0, 0]);
  return out;
}

/** Threads for a job of `macs` multiply-adds in `units` indivisible pieces: 1 below THREAD_MIN_MACS. */
export function threadCount(macs: number, units: number): number {
  return macs < THREAD_MIN_MACS ? 1 : Math.max(1, Math.min(threads(), units));
}

/** Below this many elements one thread does a whole element-wise pass: waking workers costs more. */
const THREAD_MIN_ELEMENTS = 1 << 16;

/** [start, end) ranges of `count` units over the threads that pay for `elements` of element-wise work. */
export function split(count: number, elements: number): [number, number][] {
  const t = elements < THREAD_MIN_ELEMENTS ? 1 : Math.max(1, Math.min(threads(), count));
  return ranges(count, t);
}

/** [i0, i1) element ranges in whole groups of 16 (one SIMD loop's step), split over the threads for n values. */
export function elementRanges(n: number, elements = n): [number, number][] {
  return split(Math.ceil(n / 16), elements).map(([s, f]) => [s * 16, Math.min(n, f * 16)]);
}
