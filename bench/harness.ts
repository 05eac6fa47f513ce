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

/** Speed ratio of two functions measured in alternation; see {@link pairedRatio}. */
export interface PairedStats {
  /** Median over the rounds of (time of `slow` ÷ time of `fast`) within the round. */
  median: number;
  min: number;
  max: number;
  rounds: number;
}

/**
 * The speed ratio time(b) ÷ time(a), robust to the machine's speed drifting between
 * measurements (shared machines here slow down by 30–50 % for minutes at a time): each round
 * times one call of `a` then one of `b` back to back (a tinybench run of the two tasks, one
 * iteration each), the round's ratio is b ÷ a, and the result is the median over the rounds.
 * One untimed call of each comes first.
 */
export async function pairedRatio(name: string, a: () => unknown, b: () => unknown, rounds: number): Promise<PairedStats> {
  await a();
  await b();
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({ name: `${name} round ${r}`, time: 0, iterations: 1, warmup: false, throws: true });
    bench.add('a', async () => void (await a()), { async: true });
    bench.add('b', async () => void (await b()), { async: true });
    await bench.run();
    const [ta, tb] = bench.tasks.map((t) => {
      const res = t.result;
      if (res.state !== 'completed') throw new Error(`${name}: round ${r} ${t.name} ${res.state}`);
      return res.latency.p50;
    });
    ratios.push(tb / ta);
  }
  ratios.sort((x, y) => x - y);
  const mid = ratios.length >> 1;
  const median = ratios.length % 2 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
  return { median, min: ratios[0], max: ratios[ratios.length - 1], rounds };
}
