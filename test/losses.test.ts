import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  binaryCrossentropy,
  categoricalCrossentropy,
  getLoss,
  LOSS_NAMES,
  meanSquaredError,
  sparseCategoricalCrossentropy,
  type Loss,
} from '../src/train/losses.js';

const f32 = (a: number[]): Float32Array => new Float32Array(a);

function close(actual: number, expected: number, { atol = 1e-6, rtol = 1e-6 } = {}, what = ''): void {
  const err = Math.abs(actual - expected);
  if (!(err <= atol + rtol * Math.abs(expected))) {
    assert.unreachable(`${what} expected ${expected}, got ${actual} (error ${err}, atol ${atol}, rtol ${rtol})`);
  }
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { atol, rtol }: { atol: number; rtol: number }, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  let maxErr = 0;
  let firstBad = -1;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    maxErr = Math.max(maxErr, err);
    if (firstBad < 0 && !(err <= atol + rtol * Math.abs(expected[i]))) firstBad = i;
  }
  if (firstBad >= 0) {
    assert.unreachable(
      `${what}: first bad index ${firstBad}: got ${actual[firstBad]}, expected ${expected[firstBad]}; max error ${maxErr} (atol ${atol}, rtol ${rtol})`,
    );
  }
}

/** Deterministic uniform [0, 1) numbers (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Central difference in float64 of the reported loss against dyPred. yPred is float32, so the
 * step actually taken is fround(p + h) − fround(p − h), not 2h. `skip(i)` leaves out points
 * near a clip boundary, where the loss has a kink.
 */
function gradCheck(
  loss: Loss,
  yTrue: Float32Array,
  yPred: Float32Array,
  batch: number,
  units: number,
  sampleWeight?: Float32Array,
  skip: (i: number) => boolean = () => false,
): number {
  const { dyPred } = loss.compute(yTrue, yPred, batch, units, sampleWeight);
  const h = 1e-4;
  const numeric: number[] = [];
  const analytic: number[] = [];
  for (let i = 0; i < yPred.length; i++) {
    if (skip(i)) continue;
    const plus = yPred.slice();
    const minus = yPred.slice();
    plus[i] = yPred[i] + h;
    minus[i] = yPred[i] - h;
    const lp = loss.compute(yTrue, plus, batch, units, sampleWeight).loss;
    const lm = loss.compute(yTrue, minus, batch, units, sampleWeight).loss;
    numeric.push((lp - lm) / (plus[i] - minus[i]));
    analytic.push(dyPred[i]);
  }
  assertClose(analytic, numeric, { atol: 1e-6, rtol: 1e-3 }, `${loss.name} dyPred vs central difference`);
  return numeric.length;
}

const EPS = 1e-7;
const nearClip = (p: number): boolean => Math.abs(p - EPS) < 1e-3 || Math.abs(p - (1 - EPS)) < 1e-3;

test('binaryCrossentropy [2,1] golden: (−ln 0.9 − ln 0.8)/2', () => {
  const { loss, dyPred } = binaryCrossentropy().compute(f32([1, 0]), f32([0.9, 0.2]), 2, 1);
  close(loss, (-Math.log(0.9) - Math.log(0.8)) / 2, { atol: 1e-7, rtol: 1e-6 });
  close(loss, 0.1642520, { atol: 1e-6, rtol: 0 });
  // d/dp of −ln p / 2 is −1/(2p); of −ln(1−p) / 2 is 1/(2(1−p)). p is float32.
  close(dyPred[0], -1 / (2 * Math.fround(0.9)), { rtol: 1e-6 });
  close(dyPred[1], 1 / (2 * (1 - Math.fround(0.2))), { rtol: 1e-6 });
});

test('binaryCrossentropy [1,2] averages over the last axis: (−ln 0.6 − ln 0.7)/2', () => {
  const { loss } = binaryCrossentropy().compute(f32([1, 0]), f32([0.6, 0.3]), 1, 2);
  close(loss, 0.4337503, { atol: 1e-6, rtol: 0 });
});

test('binaryCrossentropy clips: bce(y=1, p=0) = −ln 1e-7 = 16.118, gradient 0 where clipped', () => {
  const bce = binaryCrossentropy();
  const r = bce.compute(f32([1, 0, 1, 0]), f32([0, 1, 1, 0]), 4, 1);
  // Two samples at −ln(1e-7) = 16.11809565, two at −ln(1 − 1e-7) ≈ 1e-7.
  close(r.loss, (2 * 16.11809565 + 2 * 1e-7) / 4, { atol: 1e-6, rtol: 0 });
  close(bce.compute(f32([1]), f32([0]), 1, 1).loss, 16.118, { atol: 1e-3, rtol: 0 });
  assert.equal(Array.from(r.dyPred), [0, 0, 0, 0]);
  // Below the clip floor but not zero: still clipped, still no gradient.
  const tiny = bce.compute(f32([1]), f32([1e-9]), 1, 1);
  close(tiny.loss, 16.11809565, { atol: 1e-6, rtol: 0 });
  assert.is(tiny.dyPred[0], 0);
});

test('binaryCrossentropy fromLogits agrees with the probability form on moderate logits', () => {
  const next = rng(1);
  const batch = 6;
  const units = 3;
  const z = new Float32Array(batch * units);
  const p = new Float32Array(batch * units);
  const y = new Float32Array(batch * units);
  for (let i = 0; i < z.length; i++) {
    z[i] = next() * 8 - 4;
    p[i] = 1 / (1 + Math.exp(-z[i]));
    y[i] = next() < 0.5 ? 1 : 0;
  }
  const w = f32([1, 2, 0.5, 0, 3, 1]);
  const fromP = binaryCrossentropy().compute(y, p, batch, units, w);
  const fromZ = binaryCrossentropy({ fromLogits: true }).compute(y, z, batch, units, w);
  close(fromZ.loss, fromP.loss, { atol: 1e-6, rtol: 1e-5 }, 'loss');
  // Chain rule: dL/dz = dL/dp · p(1 − p).
  const chained = Array.from(fromP.dyPred, (g, i) => g * p[i] * (1 - p[i]));
  assertClose(fromZ.dyPred, chained, { atol: 1e-7, rtol: 1e-4 }, 'dL/dz');
  // Stable form at a large logit: y=0, z=50 → loss 50, no overflow.
  close(binaryCrossentropy({ fromLogits: true }).compute(f32([0]), f32([50]), 1, 1).loss, 50, { rtol: 1e-12 });
});

test('weighted loss divides by the batch size, not the sum of weights', () => {
  // Per-sample losses −ln 0.9 = 0.1053605 and −ln 0.8 = 0.2231436; (2·0.1053605 + 0.5·0.2231436)/2 = 0.1611464.
  const w = f32([2, 0.5]);
  const { loss, dyPred } = binaryCrossentropy().compute(f32([1, 0]), f32([0.9, 0.2]), 2, 1, w);
  close(loss, 0.1611464, { atol: 1e-6, rtol: 0 });
  const unweighted = binaryCrossentropy().compute(f32([1, 0]), f32([0.9, 0.2]), 2, 1).dyPred;
  close(dyPred[0], 2 * unweighted[0], { rtol: 1e-6 });
  close(dyPred[1], 0.5 * unweighted[1], { rtol: 1e-6 });
  // MSE with weights [1, 3]: per-sample 0.25 and 1 → (0.25 + 3)/2 = 1.625.
  close(meanSquaredError().compute(f32([1, 0, 1, 1]), f32([0.5, 0.5, 0, 0]), 2, 2, f32([1, 3])).loss, 1.625, { rtol: 1e-7 });
});

test('categoricalCrossentropy [2,3] golden from the Keras docs: 1.1769392; weighted [0.3, 0.7] → 0.8135988', () => {
  const y = f32([0, 1, 0, 0, 0, 1]);
  const p = f32([0.05, 0.95, 0, 0.1, 0.8, 0.1]);
  // (−ln 0.95 − ln 0.1)/2 = (0.0512933 + 2.3025851)/2
  close(categoricalCrossentropy().compute(y, p, 2, 3).loss, 1.1769392, { atol: 1e-6, rtol: 0 });
  // (0.3·0.0512933 + 0.7·2.3025851)/2
  close(categoricalCrossentropy().compute(y, p, 2, 3, f32([0.3, 0.7])).loss, 0.8135988, { atol: 1e-6, rtol: 0 });
});

test('categoricalCrossentropy [1,3] normalises rows by their sum: [2,6,2] → −ln 0.6', () => {
  close(categoricalCrossentropy().compute(f32([0, 1, 0]), f32([2, 6, 2]), 1, 3).loss, -Math.log(0.6), { rtol: 1e-7 });
  assert.throws(() => categoricalCrossentropy().compute(f32([0, 1]), f32([0, 0]), 1, 2), /categoricalCrossentropy: row 0 of yPred sums to 0/);
});

test('categoricalCrossentropy fromLogits [1,3]: z=[1,2,3], y=e3 → ln(1 + e^−1 + e^−2) = 0.4076059', () => {
  const cce = categoricalCrossentropy({ fromLogits: true });
  close(cce.compute(f32([0, 0, 1]), f32([1, 2, 3]), 1, 3).loss, 0.4076059, { atol: 1e-6, rtol: 0 });
  // Agrees with the probability form on softmax outputs.
  const z = [0.3, -1.2, 2.0, 0.5, 0.1, -0.4];
  const soft: number[] = [];
  for (let b = 0; b < 2; b++) {
    const row = z.slice(b * 3, b * 3 + 3).map(Math.exp);
    const s = row.reduce((a, c) => a + c, 0);
    soft.push(...row.map((e) => e / s));
  }
  const y = f32([0, 0, 1, 1, 0, 0]);
  close(cce.compute(y, f32(z), 2, 3).loss, categoricalCrossentropy().compute(y, f32(soft), 2, 3).loss, { atol: 1e-6, rtol: 1e-5 });
});

test('sparseCategoricalCrossentropy [3,3] golden: 0.3239 (tf docs); clip then normalise', () => {
  const y = f32([0, 1, 2]);
  const p = f32([0.9, 0.05, 0.05, 0.5, 0.89, 0.6, 0.05, 0.01, 0.94]);
  // Row 2 sums to 1.99: (−ln 0.9 − ln(0.89/1.99) − ln 0.94)/3 = (0.1053605 + 0.8046690 + 0.0618754)/3
  close(sparseCategoricalCrossentropy().compute(y, p, 3, 3).loss, 0.3239683, { atol: 1e-6, rtol: 0 });
  close(sparseCategoricalCrossentropy().compute(f32([1]), f32([0.1, 0.8, 0.1]), 1, 3).loss, -Math.log(0.8), { rtol: 1e-6 });
  // With one-hot labels and normalised rows it matches categoricalCrossentropy.
  const oneHot = f32([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const q = f32([0.7, 0.2, 0.1, 0.3, 0.3, 0.4, 0.25, 0.25, 0.5]);
  close(
    sparseCategoricalCrossentropy().compute(y, q, 3, 3).loss,
    categoricalCrossentropy().compute(oneHot, q, 3, 3).loss,
    { atol: 1e-6, rtol: 1e-6 },
  );
  close(
    sparseCategoricalCrossentropy({ fromLogits: true }).compute(f32([2]), f32([1, 2, 3]), 1, 3).loss,
    0.4076059,
    { atol: 1e-6, rtol: 0 },
  );
});

test('sparseCategoricalCrossentropy validates class indices', () => {
  const scce = sparseCategoricalCrossentropy();
  assert.throws(() => scce.compute(f32([3]), f32([0.2, 0.3, 0.5]), 1, 3), /sparseCategoricalCrossentropy: yTrue\[0\] = 3 is not a class index in \[0, 2\]/);
  assert.throws(() => scce.compute(f32([0, 1.5]), f32([0.2, 0.8, 0.5, 0.5]), 2, 2), /yTrue\[1\] = 1.5/);
  assert.throws(() => scce.compute(f32([-1]), f32([0.2, 0.8]), 1, 2), /yTrue\[0\] = -1/);
  assert.throws(() => scce.compute(f32([0, 1, 0, 1]), f32([0.2, 0.8, 0.5, 0.5]), 2, 2), /yTrue has 4 values, expected 2/);
});

test('meanSquaredError [1,2] golden: ((1−0.5)² + (0−0.5)²)/2 = 0.25', () => {
  const { loss, dyPred } = meanSquaredError().compute(f32([1, 0]), f32([0.5, 0.5]), 1, 2);
  close(loss, 0.25, { rtol: 1e-12 });
  // 2(p − y)/(batch·units) = ±0.5
  assert.equal(Array.from(dyPred), [-0.5, 0.5]);
});

test('central-difference gradient check of every loss, with and without weights', () => {
  const next = rng(7);
  const batch = 5;
  const units = 4;
  const n = batch * units;
  const probs = new Float32Array(n);
  const logits = new Float32Array(n);
  const binary = new Float32Array(n);
  const oneHot = new Float32Array(n);
  const indices = new Float32Array(batch);
  const real = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    probs[i] = 0.02 + 0.96 * next();
    logits[i] = next() * 6 - 3;
    binary[i] = next() < 0.5 ? 1 : 0;
    real[i] = next() * 2 - 1;
  }
  for (let b = 0; b < batch; b++) {
    indices[b] = Math.floor(next() * units);
    oneHot[b * units + indices[b]] = 1;
  }
  // Clipped points, excluded from the check by the skip rule.
  probs[3] = 0;
  probs[9] = 1;
  const weights = f32([1, 0.5, 2, 0, 1.5]);
  const skipClip = (i: number): boolean => nearClip(probs[i]);
  // categoricalCrossentropy clips q = p / rowSum, and every q of the row moves with p[i].
  const skipRowClip = (i: number): boolean => {
    const o = Math.floor(i / units) * units;
    let s = 0;
    for (let u = 0; u < units; u++) s += probs[o + u];
    for (let u = 0; u < units; u++) if (nearClip(probs[o + u] / s)) return true;
    return false;
  };
  for (const w of [undefined, weights]) {
    const checked = [
      gradCheck(binaryCrossentropy(), binary, probs, batch, units, w, skipClip),
      gradCheck(binaryCrossentropy({ fromLogits: true }), binary, logits, batch, units, w),
      gradCheck(categoricalCrossentropy(), oneHot, probs, batch, units, w, skipRowClip),
      gradCheck(categoricalCrossentropy({ fromLogits: true }), oneHot, logits, batch, units, w),
      gradCheck(sparseCategoricalCrossentropy(), indices, probs, batch, units, w, skipClip),
      gradCheck(sparseCategoricalCrossentropy({ fromLogits: true }), indices, logits, batch, units, w),
      gradCheck(meanSquaredError(), real, probs, batch, units, w),
    ];
    // The skip rules leave out only the two clipped points; for categorical the row holding
    // p = 0 (q = 0 is clipped), while p = 1 in a row summing to > 1 gives q < 1 − 1e-3.
    assert.equal(checked, [n - 2, n, n - units, n, n - 2, n, n]);
  }
  // Soft labels that do not sum to 1 exercise the general categorical gradient.
  const soft = f32(Array.from({ length: n }, () => next()));
  gradCheck(categoricalCrossentropy(), soft, probs, batch, units, weights, skipRowClip);
  gradCheck(categoricalCrossentropy({ fromLogits: true }), soft, logits, batch, units, weights);
  gradCheck(binaryCrossentropy(), soft, probs, batch, units, weights, skipClip);
});

test('bad inputs throw errors naming the loss and the values', () => {
  const bce = binaryCrossentropy();
  assert.throws(() => bce.compute(f32([1, 0]), f32([0.5, 0.5, 0.5]), 2, 1), /binaryCrossentropy: yPred has 3 values, expected batch·units = 2·1 = 2/);
  assert.throws(() => bce.compute(f32([1]), f32([0.5, 0.5]), 2, 1), /binaryCrossentropy: yTrue has 1 values, expected 2/);
  assert.throws(() => bce.compute(f32([1, 0]), f32([0.5, NaN]), 2, 1), /binaryCrossentropy: yPred\[1\] is NaN/);
  assert.throws(() => meanSquaredError().compute(f32([NaN]), f32([0.5]), 1, 1), /meanSquaredError: yTrue\[0\] is NaN/);
  assert.throws(() => bce.compute(f32([1, 0]), f32([0.5, 0.5]), 2, 1, f32([1])), /binaryCrossentropy: sampleWeight has 1 values, expected batch = 2/);
  assert.throws(() => bce.compute(f32([1]), f32([0.5]), 0, 1), /binaryCrossentropy: batch must be a positive integer, got 0/);
  assert.throws(() => categoricalCrossentropy({ fromLogit: true } as never), /categoricalCrossentropy: unknown option 'fromLogit'/);
});

test('getLoss accepts camelCase, snake_case and mse; unknown names list the known ones', () => {
  assert.is(getLoss('binaryCrossentropy').name, 'binaryCrossentropy');
  assert.is(getLoss('binary_crossentropy').name, 'binaryCrossentropy');
  assert.is(getLoss('categorical_crossentropy').name, 'categoricalCrossentropy');
  assert.is(getLoss('sparse_categorical_crossentropy').name, 'sparseCategoricalCrossentropy');
  assert.is(getLoss('mse').name, 'meanSquaredError');
  assert.is(getLoss('mean_squared_error').name, 'meanSquaredError');
  const custom = binaryCrossentropy({ fromLogits: true });
  assert.is(getLoss(custom), custom);
  assert.equal(custom.getConfig(), { name: 'binaryCrossentropy', fromLogits: true });
  assert.equal(getLoss('mse').getConfig(), { name: 'meanSquaredError' });
  assert.ok(LOSS_NAMES.includes('sparseCategoricalCrossentropy'));
  assert.throws(() => getLoss('poisson'), /getLoss: unknown loss 'poisson' \(known: binaryCrossentropy, binary_crossentropy, .*mse/);
  assert.throws(() => getLoss('toString'), /unknown loss 'toString'/);
});

test.run();
