// Timing on tinybench: one timed warm-up call sizes the run (few iterations for long ops, more for
// short ones), then tinybench takes the samples; we keep median, min, max and MAD.
import { Bench } from 'tinybench';

export interface Stats {
  /** Median latency, ms. */
  median: number;
  min: number;
  max: number;
  /** Median absolute deviation, ms. */
  mad: number;
  /** Timed samples (the warm-up is not one of them). */
  n: number;
  /** The warm-up call was the only run (a very slow op in default mode). */
  single?: boolean;
}

export interface MeasureOptions {
  /** Wall time to spend on samples, ms (the warm-up comes on top). */
  budgetMs: number;
  minSamples?: number;
  maxSamples?: number;
  /**
   * When the warm-up alone takes longer than this (ms), keep it as the one sample instead of
   * running again: for ops that take many seconds (tfjs cpu's naive kernels) in default mode.
   */
  singleAboveMs?: number;
}

const now = (): number => performance.now();

/** Times `fn` (sync or async); throws if it throws. */
export async function measure(name: string, fn: () => unknown, opts: MeasureOptions): Promise<Stats> {
  const minSamples = opts.minSamples ?? 3;
  const maxSamples = opts.maxSamples ?? 25;
  const t0 = now();
  const first = fn();
  const isAsync = first instanceof Promise;
  if (isAsync) await first;
  const warm = now() - t0;
  if (opts.singleAboveMs !== undefined && warm > opts.singleAboveMs) {
    return { median: warm, min: warm, max: warm, mad: 0, n: 1, single: true };
  }
  const iterations = Math.max(minSamples, Math.min(maxSamples, Math.round(opts.budgetMs / Math.max(warm, 1e-3))));
  const bench = new Bench({ name, time: 0, iterations, warmup: false, throws: true });
  bench.add(name, fn as () => unknown, { async: isAsync });
  if (isAsync) await bench.run();
  else bench.runSync();
  const task = bench.tasks[0]!;
  const r = task.result;
  if (r.state !== 'completed') {
    const err = 'error' in r ? (r as { error?: unknown }).error : undefined;
    throw new Error(`${name}: benchmark ${r.state}${err ? `: ${(err as Error).message ?? String(err)}` : ''}`);
  }
  const l = r.latency;
  return { median: l.p50, min: l.min, max: l.max, mad: l.mad, n: l.samplesCount };
}
