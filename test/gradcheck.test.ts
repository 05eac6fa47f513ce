// Central-difference gradient checks (float64 reference) for every layer's backward, run on
// every backend in listBackends().
//
// Method: run the layer's forward in training mode on x, take L = Σ r·y for a fixed random r,
// call backward(r); the returned dx and every trainable parameter's grad must equal the
// numerical dL/dx and dL/dparam. The numerical side perturbs one float32 coordinate at a time
// and divides by the step actually taken (see numericGradient in helpers.ts); L is summed in
// float64 from the layer's float32 outputs.
//
// Tolerances: the layers compute in float32 (relative rounding ~6e-8 per op, a few dozen ops
// per output), so f(x ± h) carries an absolute error of roughly 1e-6·|L| at most here; divided
// by the step 2h = 2e-2 that is ≲ 1e-4 in the gradient. The truncation error of the central
// difference is h²/6·|f'''| ≈ 2e-5·|f'''| for smooth layers. Measured: the largest absolute
// error over every check below is 8.4e-5 (a Conv2D bias gradient summing 2·4·3 outputs).
// atol 5e-4 / rtol 5e-3 leave a margin of about 6× and stay far below any real bug (a wrong
// sign, a dropped term, a missing 1/n, a transposed kernel all give errors of order 0.01 to 1).
// Kinked functions (ReLU family, max, hard sigmoid) are only probed at points at least 2h away
// from their kinks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D, type Layer } from '../src/layers/index.js';
import type { ActivationName } from '../src/layers/activations.js';
import { getLoss } from '../src/train/losses.js';
import { Random } from '../src/util/random.js';
import { Sequential } from '../src/model/sequential.js';
import { wrap, type Shape, type Tensor } from '../src/tensor.js';
import { assertClose, backendTest, numericGradient, randomArray } from './helpers.js';
import { asTensor, checkLayer, distinctValues, H, prepare } from './layer-check.js';

// ---------------------------------------------------------------- Conv2D

const convCases: { kernel: number | [number, number]; strides: number | [number, number]; padding: 'same' | 'valid'; activation?: ActivationName; dilation?: number }[] = [];
for (const kernel of [3, 2]) {
  for (const strides of [1, 2]) {
    for (const padding of ['same', 'valid'] as const) {
      convCases.push({ kernel, strides, padding, activation: strides === 2 ? 'tanh' : undefined });
    }
  }
}
convCases.push({ kernel: [3, 2], strides: [2, 1], padding: 'same', activation: 'sigmoid' });
convCases.push({ kernel: 3, strides: 1, padding: 'valid', dilation: 2, activation: 'swish' });

for (const c of convCases) {
  const name = `Conv2D ${JSON.stringify(c.kernel)} stride ${JSON.stringify(c.strides)} ${c.padding}${c.dilation ? ` dilation ${c.dilation}` : ''} ${c.activation ?? 'linear'}, input [2, 7, 5, 3] → 4 filters`;
  backendTest(`gradcheck: ${name}`, () => {
    const inShape = [2, 7, 5, 3];
    const layer = new Conv2D({ filters: 4, kernelSize: c.kernel, strides: c.strides, padding: c.padding, activation: c.activation, dilationRate: c.dilation });
    prepare(layer, inShape, 3);
    checkLayer(name, layer, randomArray(2 * 7 * 5 * 3, 11), inShape);
  });
}

backendTest('gradcheck: Conv2D without bias, 1×1 kernel (pointwise path)', () => {
  const inShape = [2, 3, 4, 5];
  const layer = new Conv2D({ filters: 3, kernelSize: 1, useBias: false });
  prepare(layer, inShape, 4);
  assert.is(layer.params().length, 1);
  checkLayer('Conv2D 1×1 no bias', layer, randomArray(2 * 3 * 4 * 5, 12), inShape);
});

// ReLU's kink makes a finite-difference check of Conv2D(relu) fragile, and a backend may fuse
// conv + bias + relu into one kernel. So: Conv2D(relu) must equal Conv2D(linear) followed by
// Activation('relu') (each checked above) in forward, dx, dkernel and dbias.
for (const [strides, padding] of [
  [1, 'same'],
  [2, 'valid'],
  [2, 'same'],
] as const) {
  backendTest(`Conv2D(relu) stride ${strides} ${padding} equals Conv2D(linear) → Activation('relu'), forward and backward`, () => {
    const inShape = [2, 7, 5, 3];
    const fused = new Conv2D({ filters: 4, kernelSize: 3, strides, padding, activation: 'relu' });
    const plain = new Conv2D({ filters: 4, kernelSize: 3, strides, padding });
    prepare(fused, inShape, 21);
    prepare(plain, inShape, 21);
    const relu = new Activation('relu');
    const x = asTensor(randomArray(2 * 7 * 5 * 3, 26), inShape);
    const c = { training: true, rng: new Random(1) };
    const yFused = fused.forward(x, c);
    const z = plain.forward(x, c);
    const yPlain = relu.forward(z, c);
    const tight = { atol: 1e-5, rtol: 1e-5 };
    assertClose(yFused.values, yPlain.values, tight, 'y');
    assert.ok(yFused.values.some((v) => v === 0) && yFused.values.some((v) => v > 0), 'relu active and inactive somewhere');
    const r = asTensor(randomArray(yFused.size, 27), yFused.shape);
    for (const p of [...fused.params(), ...plain.params()]) p.grad.fill(0);
    const dxFused = fused.backward(r, true)!;
    const dxPlain = plain.backward(relu.backward(r, true)!, true)!;
    assertClose(dxFused.values, dxPlain.values, tight, 'dx');
    fused.params().forEach((p, k) => assertClose(p.grad, plain.params()[k].grad, tight, `d${p.name}`));
  });
}

backendTest('Conv2D backward accumulates into grad (+=) across two backward passes', () => {
  const inShape = [1, 4, 4, 2];
  const layer = new Conv2D({ filters: 2, kernelSize: 3, padding: 'same' });
  prepare(layer, inShape, 5);
  const x = asTensor(randomArray(32, 13), inShape);
  const dy = asTensor(randomArray(32, 14), [1, 4, 4, 2]);
  for (const p of layer.params()) p.grad.fill(0);
  layer.forward(x, { training: true, rng: new Random(1) });
  layer.backward(dy, false);
  const once = layer.params().map((p) => p.grad.slice());
  layer.forward(x, { training: true, rng: new Random(1) });
  assert.is(layer.backward(dy, false), null, 'needInputGrad false returns null');
  layer.params().forEach((p, k) => assertClose(p.grad, once[k].map((g) => 2 * g), { atol: 1e-6, rtol: 1e-6 }, `${p.name} doubled`));
});

// ---------------------------------------------------------------- Dense

backendTest('gradcheck: Dense rank-2 input [3, 5] → 4 units, linear', () => {
  const layer = new Dense({ units: 4 });
  prepare(layer, [3, 5], 6);
  checkLayer('Dense rank 2', layer, randomArray(15, 15), [3, 5]);
});

backendTest('gradcheck: Dense rank-3 input [2, 3, 5] → 4 units, sigmoid', () => {
  const layer = new Dense({ units: 4, activation: 'sigmoid' });
  prepare(layer, [2, 3, 5], 7);
  checkLayer('Dense rank 3', layer, randomArray(30, 16), [2, 3, 5]);
});

backendTest('gradcheck: Dense softmax output [4, 6] → 3 units', () => {
  const layer = new Dense({ units: 3, activation: 'softmax' });
  prepare(layer, [4, 6], 8);
  checkLayer('Dense softmax', layer, randomArray(24, 17), [4, 6]);
});

// ---------------------------------------------------------------- MaxPooling2D

const poolCases: { poolSize?: number | [number, number]; strides?: number | [number, number]; padding?: 'same' | 'valid' }[] = [
  {},
  { padding: 'same' },
  { poolSize: 3, strides: 2, padding: 'same' },
  { poolSize: 3, strides: 1, padding: 'valid' },
  { poolSize: [2, 3], strides: [1, 2], padding: 'same' },
];
for (const c of poolCases) {
  const name = `MaxPooling2D ${JSON.stringify(c)} on [2, 7, 5, 3]`;
  backendTest(`gradcheck: ${name}`, () => {
    const inShape = [2, 7, 5, 3];
    const layer = new MaxPooling2D(c);
    prepare(layer, inShape, 9);
    // Values 4/210 ≈ 0.019 apart, step 2h = 0.01: the arg-max never changes under perturbation.
    checkLayer(name, layer, distinctValues(210, 18), inShape, { h: 5e-3 });
  });
}

backendTest('MaxPooling2D ties: the gradient goes to the FIRST max in window order, per channel', () => {
  // One image 3×3, two channels; pool 2, stride 1 (overlapping windows). Channel 0 all equal;
  // channel 1 has equal maxima at (0,1) and (1,0) in the first window.
  const ch0 = [5, 5, 5, 5, 5, 5, 5, 5, 5];
  const ch1 = [1, 3, 0, 3, 2, 0, 0, 0, 0];
  const x = new Float32Array(18);
  for (let i = 0; i < 9; i++) {
    x[2 * i] = ch0[i];
    x[2 * i + 1] = ch1[i];
  }
  const layer = new MaxPooling2D({ poolSize: 2, strides: 1 });
  layer.build([3, 3, 2]);
  const y = layer.forward(asTensor(x, [1, 3, 3, 2]), { training: true, rng: new Random(1) });
  assert.equal([...y.shape], [1, 2, 2, 2]);
  // dy distinct powers of two so the sums that land on each cell can be read back.
  const dy = new Float32Array([1, 16, 2, 32, 4, 64, 8, 128]);
  const dx = layer.backward(asTensor(dy, y.shape), true)!.values;
  const dx0 = Array.from({ length: 9 }, (_, i) => dx[2 * i]);
  const dx1 = Array.from({ length: 9 }, (_, i) => dx[2 * i + 1]);
  // Channel 0: window (oh,ow) has its first cell at (oh,ow).
  assert.equal(dx0, [1, 2, 0, 4, 8, 0, 0, 0, 0]);
  // Channel 1: windows → first max: (0,0)→(0,1) [3 beats the tie at (1,0)], (0,1)→(0,1), (1,0)→(1,0), (1,1)→(1,1).
  assert.equal(dx1, [0, 16 + 32, 0, 64, 128, 0, 0, 0, 0]);
});

backendTest("MaxPooling2D 'same': padded cells never win, even when every value is negative", () => {
  const x = new Float32Array([-5, -4, -3, -2, -1, -6, -7, -8, -9]); // 3×3, one channel
  const layer = new MaxPooling2D({ poolSize: 2, padding: 'same' });
  layer.build([3, 3, 1]);
  const y = layer.forward(asTensor(x, [1, 3, 3, 1]), { training: true, rng: new Random(1) });
  // Windows: rows {0,1}×cols {0,1}, {0,1}×{2}, {2}×{0,1}, {2}×{2}; pads (0,1) go bottom/right.
  assert.equal([...y.values], [-1, -3, -7, -9]);
  const dx = layer.backward(asTensor(new Float32Array([1, 2, 3, 4]), y.shape), true)!.values;
  assert.equal([...dx], [0, 0, 2, 0, 1, 0, 3, 0, 4]);
});

// ---------------------------------------------------------------- BatchNormalization

backendTest('gradcheck: BatchNormalization training mode, rank 4 [2, 3, 3, 4]', () => {
  const inShape = [2, 3, 3, 4];
  const layer = new BatchNormalization();
  prepare(layer, inShape, 10);
  const dx = checkLayer('BatchNormalization rank 4', layer, randomArray(72, 19, -2, 2), inShape);
  assert.ok(dx.some((v) => Math.abs(v) > 1e-3));
});

backendTest('gradcheck: BatchNormalization training mode, rank 2 [6, 3], center and scale off', () => {
  const layer = new BatchNormalization({ center: false, scale: false });
  prepare(layer, [6, 3], 11);
  assert.is(layer.params().length, 2, 'only moving statistics');
  checkLayer('BatchNormalization rank 2 plain', layer, randomArray(18, 20, -2, 2), [6, 3]);
});

backendTest('gradcheck: BatchNormalization training mode, rank 2 [5, 3], custom epsilon and momentum', () => {
  const layer = new BatchNormalization({ epsilon: 0.1, momentum: 0.5 });
  prepare(layer, [5, 3], 12);
  checkLayer('BatchNormalization rank 2', layer, randomArray(15, 21, -1, 3), [5, 3]);
});

// ---------------------------------------------------------------- Dropout, Flatten

backendTest('gradcheck: Dropout(rate 0.4, seed 7) with its mask fixed by the seed', () => {
  const inShape = [3, 4, 5];
  const make = (): Layer => {
    const d = new Dropout({ rate: 0.4, seed: 7 });
    d.build(inShape.slice(1));
    return d;
  };
  const x = randomArray(60, 22);
  const dx = checkLayer('Dropout', make(), x, inShape, { instance: make });
  const dropped = dx.filter((v) => v === 0).length;
  assert.ok(dropped > 5 && dropped < 55, `some but not all dropped (${dropped} of 60)`);
});

backendTest('gradcheck: Flatten [2, 3, 2, 2] → [2, 12]', () => {
  const layer = new Flatten();
  layer.build([3, 2, 2]);
  checkLayer('Flatten', layer, randomArray(24, 23), [2, 3, 2, 2]);
});

// ---------------------------------------------------------------- Activations

/** Where each activation has a kink (not differentiable, or a derivative jump), and a sampling range. */
const activationCases: { name: ActivationName; kinks: number[]; range: [number, number] }[] = [
  { name: 'linear', kinks: [], range: [-3, 3] },
  { name: 'relu', kinks: [0], range: [-3, 3] },
  { name: 'relu6', kinks: [0, 6], range: [-2, 8] },
  { name: 'sigmoid', kinks: [], range: [-4, 4] },
  { name: 'tanh', kinks: [], range: [-3, 3] },
  { name: 'softmax', kinks: [], range: [-3, 3] },
  { name: 'leakyRelu', kinks: [0], range: [-3, 3] },
  { name: 'elu', kinks: [0], range: [-3, 3] },
  { name: 'selu', kinks: [0], range: [-3, 3] },
  { name: 'softplus', kinks: [], range: [-4, 4] },
  { name: 'softsign', kinks: [0], range: [-3, 3] },
  { name: 'swish', kinks: [], range: [-4, 4] },
  { name: 'hardSigmoid', kinks: [-2.5, 2.5], range: [-4, 4] },
];

for (const c of activationCases) {
  backendTest(`gradcheck: Activation('${c.name}') on [2, 3, 5]`, () => {
    const x = randomArray(30, 24, c.range[0], c.range[1]);
    // Keep every point 0.1 (= 10h) away from a kink so x ± h stays on one side.
    for (let i = 0; i < x.length; i++) {
      for (const k of c.kinks) if (Math.abs(x[i] - k) < 0.1) x[i] = k + (x[i] >= k ? 0.1 : -0.1);
    }
    const layer = new Activation(c.name);
    layer.build([3, 5]);
    const dx = checkLayer(`Activation ${c.name}`, layer, x, [2, 3, 5]);
    assert.ok(dx.some((v) => v !== 0));
  });
}

// ---------------------------------------------------------------- a whole stack through a real loss

backendTest('gradcheck: a Sequential stack (Conv2D→BN→tanh→MaxPool→Flatten→Dense sigmoid) through binaryCrossentropy', () => {
  const model = new Sequential({
    layers: [
      new Conv2D({ filters: 3, kernelSize: 3, padding: 'same', inputShape: [5, 5, 2] }),
      new BatchNormalization(),
      new Activation('tanh'),
      new MaxPooling2D({ poolSize: 2 }),
      new Flatten(),
      new Dense({ units: 2, activation: 'sigmoid' }),
    ],
  });
  model.layers.forEach((l, k) => prepare(l, [3, ...(l.inputShape ?? [])], 40 + k));
  const x = randomArray(3 * 5 * 5 * 2, 25);
  const yTrue = new Float32Array([1, 0, 0, 1, 1, 1]);
  const bce = getLoss('binaryCrossentropy');
  const forward = (): Tensor => {
    let h = asTensor(x, [3, 5, 5, 2]);
    for (const l of model.layers) h = l.forward(h, { training: true, rng: new Random(1) });
    return h;
  };
  const lossOf = (): number => bce.compute(yTrue, forward().values, 3, 2).loss;
  for (const p of model.params()) p.grad.fill(0);
  const yPred = forward();
  let dy: Tensor | null = asTensor(bce.compute(yTrue, yPred.values, 3, 2).dyPred, yPred.shape);
  for (let i = model.layers.length - 1; i >= 0 && dy; i--) dy = model.layers[i].backward(dy, i > 0);
  for (const p of model.params()) {
    if (!p.trainable) continue;
    // The loss is ~0.7 and its gradients ~1e-2, so the absolute floor is scaled down to match
    // (measured max error 3e-6).
    assertClose(p.grad.slice(), numericGradient(lossOf, p.value, H), { atol: 3e-5, rtol: 5e-3 }, `stack dL/d${p.name}`);
  }
});

test.run();
