// Golden cases for the Keras semantics in ../shared/KERAS-SEMANTICS.md, each computed by hand
// (the arithmetic is in the comments) and checked through the public API, on every backend.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { axisGeometry, conv2dInfo } from '../src/geometry.js';
import { BatchNormalization, Conv2D, Dense, Dropout, MaxPooling2D } from '../src/layers/index.js';
import { BatchAveragedPrecision } from '../src/train/metrics/index.js';
import { Adam, RMSprop, SGD, type Optimizer } from '../src/train/optimizers.js';
import { Random } from '../src/util/random.js';
import { Sequential } from '../src/model/sequential.js';
import { tensor, type Tensor } from '../src/tensor.js';
import { assertClose, assertNear, backendTest } from './helpers.js';

/** float32 results against float64 hand computations: a few float32 ulps of the values involved. */
const F32 = { atol: 1e-6, rtol: 1e-5 };

// ---------------------------------------------------------------- 'same' padding and pooling sizes

backendTest("'same' padding: k=2, s=1 pads (0, 1); in=100, k=3, s=2 → out 50 with pads (0, 1); 'valid' pads nothing", () => {
  assert.equal(axisGeometry(7, 2, 1, 'same'), { out: 7, padBefore: 0, padAfter: 1 });
  assert.equal(axisGeometry(100, 3, 2, 'same'), { out: 50, padBefore: 0, padAfter: 1 });
  assert.equal(axisGeometry(100, 3, 1, 'same'), { out: 100, padBefore: 1, padAfter: 1 });
  assert.equal(axisGeometry(100, 4, 1, 'same'), { out: 100, padBefore: 1, padAfter: 2 });
  assert.equal(axisGeometry(101, 3, 2, 'same'), { out: 51, padBefore: 1, padAfter: 1 });
  assert.equal(axisGeometry(7, 3, 2, 'valid'), { out: 3, padBefore: 0, padAfter: 0 });
  assert.equal(axisGeometry(9, 3, 1, 'valid', 2), { out: 5, padBefore: 0, padAfter: 0 });
  const info = conv2dInfo([1, 100, 99, 3], [3, 3], 8, [2, 2], 'same');
  assert.equal([info.outHeight, info.outWidth, info.padTop, info.padBottom, info.padLeft, info.padRight], [50, 50, 0, 1, 1, 1]);
});

function onesConv(kernelSize: number, strides: number, input: number[], side: number): Tensor {
  const conv = new Conv2D({ filters: 1, kernelSize, strides, padding: 'same', kernelInitializer: 'ones' });
  conv.build([side, side, 1]);
  conv.initializeWeights(new Random(1));
  return conv.forward(tensor(input, [1, side, side, 1]), { training: false, rng: new Random(1) });
}

backendTest("'same' asymmetry in a real convolution: 2×2 ones kernel, stride 1, on 1..9 (3×3): the extra pad is bottom/right", () => {
  const y = onesConv(2, 1, [1, 2, 3, 4, 5, 6, 7, 8, 9], 3);
  // y[i,j] = x[i,j] + x[i,j+1] + x[i+1,j] + x[i+1,j+1] with zeros past the bottom/right edge:
  // 1+2+4+5=12, 2+3+5+6=16, 3+6=9 / 4+5+7+8=24, 28, 6+9=15 / 7+8=15, 8+9=17, 9.
  // Padding top/left instead would give 1, 3, 5 / 5, 12, 16 / 11, 24, 28.
  assert.equal([...y.values], [12, 16, 9, 24, 28, 15, 15, 17, 9]);
});

backendTest("'same' asymmetry with stride 2: 3×3 ones kernel on 1..16 (4×4) → 2×2, pads (0, 1) on each axis", () => {
  const y = onesConv(3, 2, Array.from({ length: 16 }, (_, i) => i + 1), 4);
  // Windows start at rows/cols 0 and 2: rows 0-2 × cols 0-2 = 1+2+3+5+6+7+9+10+11 = 54;
  // rows 0-2 × cols 2-3 = 3+4+7+8+11+12 = 45; rows 2-3 × cols 0-2 = 9+10+11+13+14+15 = 72;
  // rows 2-3 × cols 2-3 = 11+12+15+16 = 54. (Pads (1, 0) would give 14+..., not these.)
  assert.equal([...y.values], [54, 45, 72, 54]);
});

backendTest('MaxPooling2D defaults (pool 2, strides = pool, valid): 100 → 50 and 99 → 49, checked through Sequential.add', () => {
  for (const [side, out] of [
    [100, 50],
    [99, 49],
    [7, 3],
  ]) {
    const model = new Sequential();
    model.add(new Conv2D({ filters: 2, kernelSize: 3, padding: 'same', inputShape: [side, side, 1] }));
    model.add(new MaxPooling2D());
    assert.equal([...model.outputShape], [out, out, 2], `${side}`);
  }
  assert.equal(new MaxPooling2D({ padding: 'same' }).computeOutputShape([99, 99, 1]), [50, 50, 1]);
});

// ---------------------------------------------------------------- BatchNormalization statistics

backendTest('BatchNormalization: one training step updates moving = moving·0.99 + batch·0.01 with the BIASED variance; inference uses them', async () => {
  const model = new Sequential();
  model.add(new BatchNormalization({ inputShape: [2] }));
  model.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'mse' });
  const x = tensor([1, 2, 3, 6, 5, 1], [3, 2]);
  await model.trainOnBatch(x, tensor([0, 0, 0, 0, 0, 0], [3, 2]));
  const [gamma, beta, movingMean, movingVariance] = model.getWeights();
  // Channel 0: 1, 3, 5 → mean 3, biased var (4 + 0 + 4)/3 = 8/3 (unbiased would be 4).
  // Channel 1: 2, 6, 1 → mean 3, biased var (1 + 9 + 4)/3 = 14/3 (unbiased 7).
  assertClose(movingMean.values, [0.03, 0.03], F32, 'movingMean');
  assertClose(movingVariance.values, [0.99 + (8 / 3) * 0.01, 0.99 + (14 / 3) * 0.01], F32, 'movingVariance');
  // Inference: gamma·(x − movingMean)/sqrt(movingVariance + 1e-3) + beta, with the trained gamma/beta.
  const y = await model.predict(x);
  const expected = Array.from(x.values, (v, i) => {
    const c = i % 2;
    return (gamma.values[c] * (v - movingMean.values[c])) / Math.sqrt(movingVariance.values[c] + 1e-3) + beta.values[c];
  });
  assertClose(y.values, expected, F32, 'inference output');
  // The training step itself normalized with batch statistics: with targets 0 and MSE, gamma
  // moved down (d/dgamma of Σ (gamma·xHat)² > 0) and beta, whose gradient Σ 2·xHat·…/n is 0, did not.
  assert.ok(gamma.values[0] < 1 && gamma.values[1] < 1, `gamma ${gamma.values}`);
  assertClose(beta.values, [0, 0], { atol: 1e-7, rtol: 0 }, 'beta');
});

// ---------------------------------------------------------------- Dropout

backendTest('Dropout(0.3): kept values are ×1/(1−rate), about 30 % are dropped on 200 000 values, inference is the identity', async () => {
  const n = 200_000;
  const layer = new Dropout({ rate: 0.3, seed: 11 });
  layer.build([n]);
  const x = tensor(new Float32Array(n).fill(2), [1, n]);
  const y = layer.forward(x, { training: true, rng: new Random(1) });
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    if (y.values[i] === 0) dropped++;
    else if (y.values[i] !== Math.fround(2 * Math.fround(1 / 0.7))) assert.unreachable(`value ${i} is ${y.values[i]}, not 2/0.7`);
  }
  // Binomial: sd of the fraction = sqrt(0.3·0.7/200000) ≈ 0.001; allow 5 sd.
  assertNear(dropped / n, 0.3, { atol: 0.005, rtol: 0 }, 'dropped fraction');
  // The expected value is preserved: mean(y) ≈ 2.
  assertNear(y.values.reduce((a, b) => a + b, 0) / n, 2, { atol: 0.02, rtol: 0 }, 'mean');
  // Inside a model, predict runs in inference mode: identity.
  const model = new Sequential({ layers: [new Dropout({ rate: 0.5, inputShape: [4] })] });
  const input = tensor([1, 2, 3, 4], [1, 4]);
  assert.equal([...(await model.predict(input)).values], [1, 2, 3, 4]);
});

// ---------------------------------------------------------------- loss clipping through the model

/** A model with one Dense unit whose weights are given and whose layers are frozen, so fit/evaluate never move them. */
function fixedDense(kernel: number[], bias: number, activation?: 'sigmoid' | 'linear', trainable = true): Sequential {
  const model = new Sequential();
  model.add(new Dense({ units: 1, activation, inputShape: [kernel.length], trainable }));
  model.setWeights([tensor(kernel, [kernel.length, 1]), tensor([bias], [1])]);
  return model;
}

backendTest('binaryCrossentropy clips p to [1e-7, 1 − 1e-7] through the model: a saturated wrong sigmoid gives 16.118', async () => {
  const model = fixedDense([1], 0, 'sigmoid');
  model.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy' });
  const x = tensor([-200, 200], [2, 1]); // sigmoid → 0 and 1 in float32
  const p = await model.predict(x);
  assert.ok(p.values[0] < 1e-30 && p.values[1] === 1, `saturated: ${p.values}`);
  // −log(1e-7) = 16.11809565...; both samples are wrong, so the mean is the same.
  const logs = await model.evaluate(x, tensor([1, 0], [2, 1]));
  assertNear(logs.loss, -Math.log(1e-7), { atol: 1e-4, rtol: 0 }, 'clipped bce');
  assertNear(logs.loss, 16.118, { atol: 1e-3, rtol: 0 }, 'clipped bce');
});

// ---------------------------------------------------------------- optimizers: exact values

// Model: ŷ = w·x + b with w = [0.5, −0.25], b = 0.1; one sample x = [1, 2], y = 1; MSE loss
// L = (ŷ − y)², so g_w = 2(ŷ − y)·x and g_b = 2(ŷ − y). Step 1: ŷ = 0.1, g = [−1.8, −3.6], g_b = −1.8.
const X = tensor([1, 2], [1, 2]);
const Y = tensor([1], [1, 1]);

async function steps(optimizer: Optimizer, n: number): Promise<number[][]> {
  const model = fixedDense([0.5, -0.25], 0.1);
  model.compile({ optimizer, loss: 'mse' });
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    await model.trainOnBatch(X, Y);
    const [w, b] = model.getWeights();
    out.push([...w.values, ...b.values]);
  }
  return out;
}

/** The Keras update rules in float64, written out independently of the library. */
function simulate(n: number, update: (p: number[], g: number[], t: number) => void): number[][] {
  const p = [0.5, -0.25, 0.1];
  const out: number[][] = [];
  for (let t = 1; t <= n; t++) {
    const yHat = p[0] * 1 + p[1] * 2 + p[2];
    const d = 2 * (yHat - 1);
    update(p, [d * 1, d * 2, d], t);
    out.push([...p]);
  }
  return out;
}

backendTest('SGD plain (lr 0.1): w −= lr·g, hand-computed over 2 steps, simulated over 3', async () => {
  const got = await steps(new SGD({ learningRate: 0.1 }), 3);
  // Step 1: w = [0.5 + 0.18, −0.25 + 0.36] = [0.68, 0.11], b = 0.28.
  // Step 2: ŷ = 0.68 + 0.22 + 0.28 = 1.18, g = [0.36, 0.72], g_b = 0.36 → [0.644, 0.038], 0.244.
  assertClose(got[0], [0.68, 0.11, 0.28], F32, 'step 1');
  assertClose(got[1], [0.644, 0.038, 0.244], F32, 'step 2');
  const sim = simulate(3, (p, g) => p.forEach((_, i) => (p[i] -= 0.1 * g[i])));
  assertClose(got[2], sim[2], F32, 'step 3');
});

backendTest('SGD momentum 0.9 (lr 0.1): v = m·v − lr·g; w += v, hand-computed over 2 steps, simulated over 3', async () => {
  const got = await steps(new SGD({ learningRate: 0.1, momentum: 0.9 }), 3);
  // Step 1: v = [0.18, 0.36], v_b = 0.18 → same as plain: [0.68, 0.11], 0.28.
  // Step 2: g = [0.36, 0.72], 0.36; v = 0.9·[0.18, 0.36] − 0.1·[0.36, 0.72] = [0.126, 0.252], v_b = 0.126
  //   → w = [0.806, 0.362], b = 0.406.
  assertClose(got[0], [0.68, 0.11, 0.28], F32, 'step 1');
  assertClose(got[1], [0.806, 0.362, 0.406], F32, 'step 2');
  const v = [0, 0, 0];
  const sim = simulate(3, (p, g) =>
    p.forEach((_, i) => {
      v[i] = 0.9 * v[i] - 0.1 * g[i];
      p[i] += v[i];
    }),
  );
  assertClose(got[2], sim[2], F32, 'step 3');
});

backendTest('SGD Nesterov 0.9 (lr 0.1): v = m·v − lr·g; w += m·v − lr·g, hand-computed over 2 steps, simulated over 3', async () => {
  const got = await steps(new SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true }), 3);
  // Step 1: v = [0.18, 0.36]; w += 0.9·v + 0.1·1.8·[1, 2] = [0.342, 0.684] → [0.842, 0.434], b = 0.442.
  // Step 2: ŷ = 0.842 + 0.868 + 0.442 = 2.152, g = [2.304, 4.608], g_b = 2.304;
  //   v = [0.162 − 0.2304, 0.324 − 0.4608] = [−0.0684, −0.1368], v_b = −0.0684;
  //   w += [0.9·(−0.0684) − 0.2304, 0.9·(−0.1368) − 0.4608] = [−0.29196, −0.58392]
  //   → [0.55004, −0.14992], b = 0.442 − 0.29196 = 0.15004.
  assertClose(got[0], [0.842, 0.434, 0.442], F32, 'step 1');
  assertClose(got[1], [0.55004, -0.14992, 0.15004], F32, 'step 2');
  const v = [0, 0, 0];
  const sim = simulate(3, (p, g) =>
    p.forEach((_, i) => {
      v[i] = 0.9 * v[i] - 0.1 * g[i];
      p[i] += 0.9 * v[i] - 0.1 * g[i];
    }),
  );
  assertClose(got[2], sim[2], F32, 'step 3');
});

backendTest('SGD defaults: lr 0.01, no momentum', async () => {
  const got = await steps(new SGD(), 1);
  assertClose(got[0], [0.5 + 0.018, -0.25 + 0.036, 0.1 + 0.018], F32, 'step 1');
});

backendTest('Adam (lr 0.1, β1 0.9, β2 0.999, ε 1e-7): Keras form, first steps', async () => {
  const got = await steps(new Adam({ learningRate: 0.1 }), 3);
  // Keras 3: α_t = lr·sqrt(1 − β2^t)/(1 − β1^t); m += (g − m)(1 − β1); v += (g² − v)(1 − β2);
  // w −= α_t·m/(sqrt(v) + ε). Step 1: m = 0.1g, v = 0.001g², α = 0.1·sqrt(0.001)/0.1, so
  // w −= 0.1·g/(|g| + ε/sqrt(0.001)) ≈ 0.1·sign(g): w ≈ [0.6, −0.15], b ≈ 0.2.
  assertClose(got[0], [0.6, -0.15, 0.2], { atol: 1e-5, rtol: 0 }, 'step 1 ≈ lr·sign(g)');
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  const sim = simulate(3, (p, g, t) => {
    const alpha = (0.1 * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
    p.forEach((_, i) => {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      p[i] -= (alpha * m[i]) / (Math.sqrt(v[i]) + 1e-7);
    });
  });
  for (let t = 0; t < 3; t++) assertClose(got[t], sim[t], F32, `Adam step ${t + 1}`);
});

backendTest('RMSprop (lr 0.01, ρ 0.9, ε 1e-7): Keras 3 form w −= lr·g/sqrt(ms + ε), including a tiny gradient where ε matters', async () => {
  // With g ~ 1e-4 the first ms = 0.1·g² = 1e-9 is far below ε, so sqrt(ms + ε) and sqrt(ms) + ε differ by ~10×.
  for (const scale of [1, 1e-4]) {
    const model = fixedDense([0.5, -0.25], 0.1);
    model.compile({ optimizer: new RMSprop({ learningRate: 0.01 }), loss: 'mse' });
    const y = tensor([0.1 + 0.5 * scale], [1, 1]); // ŷ − y = −0.5·scale
    const ms = [0, 0, 0];
    const p = [0.5, -0.25, 0.1];
    for (let t = 0; t < 2; t++) {
      await model.trainOnBatch(X, y);
      const d = 2 * (p[0] + 2 * p[1] + p[2] - y.values[0]);
      [d, 2 * d, d].forEach((g, i) => {
        ms[i] = 0.9 * ms[i] + 0.1 * g * g;
        p[i] -= (0.01 * g) / Math.sqrt(ms[i] + 1e-7);
      });
      const [w, b] = model.getWeights();
      assertClose([...w.values, ...b.values], p, F32, `RMSprop scale ${scale} step ${t + 1}`);
    }
  }
});

// ---------------------------------------------------------------- validationSplit

backendTest('validationSplit takes the LAST fraction before shuffling: val_loss and loss match hand sums', async () => {
  // ŷ = x (frozen), MSE: per-sample loss (x − y)². x = 1..10, y = 0 except y = 1 for the last
  // sample; split 0.2 → validation = {9, 10}.
  const model = fixedDense([1], 0, 'linear', false);
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = tensor(Array.from({ length: 10 }, (_, i) => i + 1), [10, 1]);
  const y = tensor([0, 0, 0, 0, 0, 0, 0, 0, 0, 1], [10, 1]);
  const h = await model.fit(x, y, { epochs: 2, batchSize: 3, validationSplit: 0.2, shuffle: true, seed: 5, verbose: 0 });
  // val: (9² + (10 − 1)²)/2 = 81 (the first fraction would give (1 + 4)/2 = 2.5);
  // train: (1+4+9+16+25+36+49+64)/8 = 25.5, whatever the shuffled order and the partial last batch.
  assertClose(h.history.val_loss, [81, 81], F32, 'val_loss');
  assertClose(h.history.loss, [25.5, 25.5], F32, 'loss');
});

// ---------------------------------------------------------------- streaming precision

backendTest('streaming precision differs from the batch-averaged precision, through model.fit metrics', async () => {
  // ŷ = x (frozen). batchSize 2, no shuffle:
  //   batch 1: p = [0.9, 0.1], y = [1, 0] → TP 1, predicted positive 1 → batch precision 1
  //   batch 2: p = [0.9, 0.9], y = [0, 0] → TP 0, PP 2 → 0
  //   batch 3: p = [0.9, 0.9], y = [1, 0] → TP 1, PP 2 → 0.5
  // Streaming: TP 2 / PP 5 = 0.4. Batch-averaged: (1 + 0 + 0.5)/3 = 0.5.
  const model = fixedDense([1], 0, 'linear', false);
  model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['precision', new BatchAveragedPrecision()] });
  const x = tensor([0.9, 0.1, 0.9, 0.9, 0.9, 0.9], [6, 1]);
  const y = tensor([1, 0, 0, 0, 1, 0], [6, 1]);
  // Validation: p = [0.9, 0.9, 0.2], y = [1, 1, 0] → precision 1, computed on its own fresh state.
  const xv = tensor([0.9, 0.9, 0.2], [3, 1]);
  const yv = tensor([1, 1, 0], [3, 1]);
  const h = await model.fit(x, y, { epochs: 2, batchSize: 2, shuffle: false, validationData: [xv, yv], verbose: 0 });
  assertClose(h.history.precision, [0.4, 0.4], F32, 'streaming precision (reset every epoch)');
  assertClose(h.history.batch_averaged_precision, [0.5, 0.5], { atol: 1e-6, rtol: 0 }, 'batch-averaged precision');
  assertClose(h.history.val_precision, [1, 1], F32, 'val_precision');
  const logs = await model.evaluate(x, y, { batchSize: 2 });
  assertNear(logs.precision, 0.4, F32, 'evaluate precision');
});

// ---------------------------------------------------------------- class weights

backendTest("classWeight 'balanced' weights each sample by n/(2·count) and equals the explicit sampleWeight loss", async () => {
  // ŷ = x (frozen); x = 0.2..1.0, y = [0, 0, 0, 1, 1]: class 0 ×3, class 1 ×2 → weights 5/6 and 5/4.
  // Per-sample MSE: 0.04, 0.16, 0.36, 0.04, 0 → Σ l·w / n = (0.56·5/6 + 0.04·5/4)/5 = 0.10333…
  const x = tensor([0.2, 0.4, 0.6, 0.8, 1.0], [5, 1]);
  const y = tensor([0, 0, 0, 1, 1], [5, 1]);
  const run = async (args: object): Promise<number> => {
    const model = fixedDense([1], 0, 'linear', false);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    return (await model.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0, seed: 1, ...args })).history.loss[0];
  };
  const expected = ((0.04 + 0.16 + 0.36) * (5 / 6) + 0.04 * (5 / 4)) / 5;
  const balanced = await run({ classWeight: 'balanced' });
  const explicit = await run({ sampleWeight: tensor([5 / 6, 5 / 6, 5 / 6, 5 / 4, 5 / 4], [5]) });
  const unweighted = await run({});
  assertNear(balanced, expected, F32, 'balanced');
  assertNear(explicit, expected, F32, 'explicit sampleWeight');
  assertNear(unweighted, 0.6 / 5, F32, 'unweighted');
  assertNear(await run({ classWeight: { 0: 5 / 6, 1: 5 / 4 } }), expected, F32, 'classWeight map');
});

// ---------------------------------------------------------------- initializers

backendTest('glorotUniform for a conv kernel: limit sqrt(6/(fanIn + fanOut)), |w| ≤ limit, variance ≈ limit²/3, bias zeros', () => {
  // Kernel [3, 3, 32, 64]: fanIn = 9·32 = 288, fanOut = 9·64 = 576, limit = sqrt(6/864) = 0.0833.
  const conv = new Conv2D({ filters: 64, kernelSize: 3 });
  conv.build([8, 8, 32]);
  conv.initializeWeights(new Random(123));
  const [kernel, bias] = conv.params();
  const limit = Math.sqrt(6 / (288 + 576));
  let sum = 0;
  let sumSq = 0;
  let maxAbs = 0;
  for (const w of kernel.value) {
    sum += w;
    sumSq += w * w;
    maxAbs = Math.max(maxAbs, Math.abs(w));
  }
  const n = kernel.value.length; // 18 432
  const mean = sum / n;
  const variance = sumSq / n - mean * mean;
  assert.ok(maxAbs <= limit, `max |w| ${maxAbs} > limit ${limit}`);
  assert.ok(maxAbs > 0.99 * limit, `max |w| ${maxAbs} far below limit ${limit}: wrong fans?`);
  // Sample variance of U(−a, a): sd ≈ (a²/3)·sqrt(0.8/n) ≈ 0.66 % of it; allow 4 %.
  assertNear(variance, (limit * limit) / 3, { atol: 0, rtol: 0.04 }, 'variance');
  assertNear(mean, 0, { atol: 4 * Math.sqrt((limit * limit) / 3 / n), rtol: 0 }, 'mean');
  assert.ok(bias.value.every((b) => b === 0));
  // The documented example: 3×3 conv 3→32 has limit sqrt(6/(27 + 288)) = 0.1380.
  const small = new Conv2D({ filters: 32, kernelSize: 3 });
  small.build([5, 5, 3]);
  small.initializeWeights(new Random(1));
  const smallMax = small.params()[0].value.reduce((a, w) => Math.max(a, Math.abs(w)), 0);
  assert.ok(smallMax <= 0.13801 && smallMax > 0.13, `3→32 max |w| ${smallMax}`);
});

test.run();
