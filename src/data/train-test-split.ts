import { checkOptionKeys } from '../util/options.js';
import { Tensor, type Rank } from '../tensor.js';
import { mulberry32, randomSeed, shuffleInPlace } from '../util/data-random.js';

/** Options of {@link trainTestSplit}. */
export interface TrainTestSplitOptions {
  /** Fraction of samples in the test part, in (0, 1); default 0.25. */
  testSize?: number;
  /** Split each class separately so both parts keep the class ratio; default true. */
  stratify?: boolean;
  /** Seed of the shuffles; random when omitted. */
  seed?: number;
}

/** The four parts returned by {@link trainTestSplit}; ranks follow the inputs. */
export interface TrainTestSplit<RX extends Rank, RY extends Rank> {
  xTrain: Tensor<RX>;
  xTest: Tensor<RX>;
  yTrain: Tensor<RY>;
  yTest: Tensor<RY>;
}

function takeRows<R extends Rank>(t: Tensor<R>, rows: readonly number[]): Tensor<R> {
  const shape = t.shape as readonly number[];
  const per = t.size / shape[0];
  const out = new Float32Array(rows.length * per);
  rows.forEach((r, i) => out.set(t.values.subarray(r * per, (r + 1) * per), i * per));
  return new Tensor<R>(out, [rows.length, ...shape.slice(1)] as unknown as Tensor<R>['shape']);
}

/**
 * Splits in-memory samples (axis 0) into shuffled train and test parts, like scikit-learn's
 * `train_test_split`. With `stratify` (default) the class of a sample is its label
 * (`y` of shape `[n]` or `[n, 1]`) or the argmax of its one-hot row (`[n, classes]`), and
 * each class sends `round(n_c · testSize)` samples to the test part, at least one and at
 * most `n_c − 1` when it has two or more, so both parts contain every class.
 *
 * @param x samples `[n, ...]`
 * @param y labels `[n]`, `[n, 1]` or one-hot `[n, classes]`
 * @example
 * const { xTrain, xTest, yTrain, yTest } = trainTestSplit(x, y, { testSize: 0.2, seed: 42 });
 */
export function trainTestSplit<RX extends Rank, RY extends Rank>(x: Tensor<RX>, y: Tensor<RY>, options: TrainTestSplitOptions = {}): TrainTestSplit<RX, RY> {
  checkOptionKeys('trainTestSplit', options, ['testSize', 'stratify', 'seed']);
  const { testSize = 0.25, stratify = true, seed = randomSeed() } = options;
  const xs = x.shape as readonly number[];
  const ys = y.shape as readonly number[];
  if (xs.length === 0 || ys.length === 0) throw new Error('trainTestSplit: x and y need a sample axis (rank ≥ 1)');
  const n = xs[0];
  if (ys[0] !== n) throw new Error(`trainTestSplit: x has ${n} samples but y has ${ys[0]}`);
  if (!(testSize > 0 && testSize < 1)) throw new Error(`trainTestSplit: testSize must be in (0, 1), got ${testSize}`);
  const rand = mulberry32(seed);
  const test: number[] = [];
  const train: number[] = [];
  if (stratify) {
    if (ys.length > 2) throw new Error(`trainTestSplit: stratify needs y of shape [n], [n, 1] or [n, classes], got [${ys.join(', ')}]`);
    const width = ys.length === 2 ? ys[1] : 1;
    const groups = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      let cls = y.values[i * width];
      if (width > 1) {
        let best = 0;
        for (let k = 1; k < width; k++) if (y.values[i * width + k] > y.values[i * width + best]) best = k;
        cls = best;
      }
      const g = groups.get(cls) ?? [];
      g.push(i);
      groups.set(cls, g);
    }
    for (const cls of [...groups.keys()].sort((a, b) => a - b)) {
      const g = shuffleInPlace(groups.get(cls)!, rand);
      const k = g.length < 2 ? 0 : Math.min(g.length - 1, Math.max(1, Math.round(g.length * testSize)));
      test.push(...g.slice(0, k));
      train.push(...g.slice(k));
    }
  } else {
    const all = shuffleInPlace(Array.from({ length: n }, (_, i) => i), rand);
    const k = Math.round(n * testSize);
    test.push(...all.slice(0, k));
    train.push(...all.slice(k));
  }
  shuffleInPlace(train, rand);
  shuffleInPlace(test, rand);
  return { xTrain: takeRows(x, train), xTest: takeRows(x, test), yTrain: takeRows(y, train), yTest: takeRows(y, test) };
}
