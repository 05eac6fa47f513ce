// ONNX export of functional models and of the layers beyond the seed model's, checked by running
// the exported graph in ONNX Runtime against tscnn's predict (atol 1e-4, rtol 1e-3) at batch 1
// and 5 through one session, on random weights and after a few training steps; and the graph's
// Transposes counted, since the exporter's layout tracking is what keeps them few.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toOnnx } from '../src/io/onnx/index.js';
import { input, layers, Model, model, Sequential, type SymbolicTensor } from '../src/index.js';
import type { Tensor } from '../src/tensor.js';
import { buildMobileNetModel } from '../examples/lib/mobilenet-model.js';
import { buildResidualModel } from '../examples/lib/residual-model.js';
import { buildUserModel } from '../examples/lib/user-model.js';
import { CustomLayer, rejects } from './helpers.js';
import { checkAgainstOrt, opCounts, randomizeWeights, trainBriefly } from './onnx-check.js';

const BATCHES = [1, 5];

/**
 * Random weights (every weight, moving statistics too), then a fresh model of the same layers
 * after a few training steps from its own initialization (random weights saturate the outputs,
 * so training them would change little): both must agree with ONNX Runtime.
 */
async function checkRandomAndTrained(build: () => Model | Sequential, seed: number, what: string): Promise<void> {
  const m = build();
  randomizeWeights(m, seed);
  await checkAgainstOrt(m, BATCHES, seed + 1, `${what}, random weights`);
  const t = build();
  const changed = await trainBriefly(t, seed + 2);
  const total = t.getWeights().length;
  assert.ok(changed >= total / 2, `${what}: training changed ${changed} of ${total} weights`);
  await checkAgainstOrt(t, BATCHES, seed + 3, `${what}, trained`);
}

test('examples/residual.ts network (functional: Add with identity and 1×1 shortcuts, GlobalAveragePooling2D): one Transpose, BatchNormalization folded', async () => {
  const m = buildResidualModel(16);
  assert.equal(opCounts(m).Transpose, 1, 'one Transpose, at the input');
  assert.is(opCounts(m).BatchNormalization, undefined, 'stem_bn folded into stem_conv');
  assert.is(opCounts(m).Add, 2);
  await checkRandomAndTrained(() => buildResidualModel(16), 100, 'residual example');
});

test('examples/mobilenet.ts network (Depthwise/SeparableConv2D, BatchNormalization, ReLU(6), GlobalAveragePooling2D): one Transpose, every BatchNormalization folded', async () => {
  const m = buildMobileNetModel(16, 1);
  const ops = opCounts(m);
  assert.equal(ops.Transpose, 1, 'one Transpose, at the input');
  assert.is(ops.BatchNormalization, undefined, 'all six folded');
  assert.is(ops.Conv, 7);
  await checkRandomAndTrained(() => buildMobileNetModel(16, 1), 200, 'mobilenet example');
});

test('the seed model: two Transposes (input, before Flatten), none between its convolutions', () => {
  assert.equal(opCounts(buildUserModel(16)).Transpose, 2);
});

for (const axis of [1, 2, 3, -1, -2]) {
  test(`Concatenate on axis ${axis} of two convolutions (NCHW axis in the graph, no Transpose), softmax on channels in NCHW`, async () => {
    const build = (): Model | Sequential => {
      const x = input({ shape: [6, 5, 3] });
      const a = new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x);
      const b = new layers.Conv2D({ filters: 4, kernelSize: 1, activation: 'softmax' }).apply(x);
      const c = new layers.Concatenate({ axis }).apply([a, b]);
      const d = new layers.Conv2D({ filters: 3, kernelSize: 2, strides: 2 }).apply(c);
      const y = new layers.GlobalMaxPooling2D().apply(d);
      return model({ inputs: x, outputs: y });
    };
    const m = build();
    assert.equal(opCounts(m).Transpose, 1, 'the input is transposed once for both convolutions');
    await checkRandomAndTrained(build, 300 + axis * 10, `concatenate axis ${axis}`);
  });
}

test('mixed layouts: Concatenate and Add of the NHWC input with NCHW convolutions reuse one Transpose; rank-2 and rank-3 Concatenate', async () => {
  const build = (): Model | Sequential => {
    const x = input({ shape: [7, 6, 2] });
    const conv = new layers.Conv2D({ filters: 2, kernelSize: 3, padding: 'same', activation: 'tanh' }).apply(x);
    const sum = new layers.Add().apply([x, conv]);
    const joined = new layers.Concatenate().apply([conv, x, sum]);
    const pooled = new layers.GlobalAveragePooling2D().apply(joined);
    const maxed = new layers.GlobalMaxPooling2D().apply(x);
    const flat = new layers.Concatenate().apply([pooled, maxed]);
    const rows = new layers.Reshape({ targetShape: [2, 4] }).apply(flat);
    const rows2 = new layers.Reshape({ targetShape: [2, -1] }).apply(new layers.Dense({ units: 6 }).apply(flat));
    const both = new layers.Concatenate({ axis: -1 }).apply([rows, rows2]);
    const tall = new layers.Concatenate({ axis: 1 }).apply([both, new layers.Dense({ units: 7 }).apply(both)]);
    const y = new layers.Dense({ units: 3, activation: 'softmax' }).apply(new layers.Flatten().apply(tall));
    return model({ inputs: x, outputs: y });
  };
  const m = build();
  const ops = opCounts(m);
  assert.equal(ops.Transpose, 1, `one Transpose of the input, shared by the convolution, Add and Concatenate: ${JSON.stringify(ops)}`);
  assert.is(ops.ReduceMax, 1, 'GlobalMaxPooling2D on the NHWC input reduces it in place');
  assert.is(ops.GlobalAveragePool, 1);
  await checkRandomAndTrained(build, 400, 'mixed layouts');
});

test('AveragePooling2D (same: padding left out of the average; valid; strides unlike the pool), global pools with keepdims, MaxPooling2D', async () => {
  const build = (): Model | Sequential => {
    const x = input({ shape: [9, 7, 3] });
    let h = new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same' }).apply(x);
    h = new layers.AveragePooling2D({ poolSize: 3, strides: 2, padding: 'same' }).apply(h);
    const v = new layers.AveragePooling2D({ poolSize: [2, 3], strides: 1 }).apply(h);
    const s = new layers.AveragePooling2D({ poolSize: 2, padding: 'same' }).apply(x);
    const g1 = new layers.GlobalAveragePooling2D({ keepdims: true }).apply(v);
    const g2 = new layers.GlobalMaxPooling2D({ keepdims: true }).apply(new layers.MaxPooling2D({ poolSize: 2, strides: 1, padding: 'same' }).apply(s));
    const g3 = new layers.GlobalAveragePooling2D({ keepdims: true }).apply(x);
    const y = new layers.Flatten().apply(new layers.Concatenate().apply([g1, g2, g3]));
    return model({ inputs: x, outputs: y });
  };
  const m = build();
  const ops = opCounts(m);
  assert.is(ops.AveragePool, 3);
  assert.is(ops.ReduceMean, 1, 'the NHWC input is averaged in place');
  await checkRandomAndTrained(build, 500, 'pools');
});

test('Reshape keeps NHWC order (after convolutions, to rank 3 and back to rank 4), Rescaling, ZeroPadding2D and BatchNormalization on NHWC data', async () => {
  const build = (): Model | Sequential => {
    const m = new Sequential();
    m.add(new layers.Rescaling({ scale: 1 / 2, offset: -0.25, inputShape: [6, 4, 3] }));
    m.add(new layers.ZeroPadding2D({ padding: [[1, 2], [0, 1]] }));
    m.add(new layers.BatchNormalization());
    m.add(new layers.Conv2D({ filters: 4, kernelSize: 3, activation: 'relu' }));
    m.add(new layers.Reshape({ targetShape: [12, -1] }));
    m.add(new layers.Dense({ units: 5 }));
    m.add(new layers.Reshape({ targetShape: [4, 3, 5] }));
    m.add(new layers.ZeroPadding2D({ padding: 1 }));
    m.add(new layers.Conv2D({ filters: 2, kernelSize: 2 }));
    m.add(new layers.Rescaling({ scale: 3 }));
    m.add(new layers.ReLU({ threshold: 0.1, negativeSlope: 0.3, maxValue: 2 }));
    m.add(new layers.Flatten());
    m.add(new layers.Dense({ units: 3 }));
    return m;
  };
  const m = build();
  const ops = opCounts(m);
  assert.is(ops.Transpose, 4, 'into the first Conv, out before Reshape, into the second Conv, out before Flatten');
  assert.is(ops.BatchNormalization, undefined, 'on the NHWC input it is Mul/Add, not transposed');
  await checkRandomAndTrained(build, 600, 'reshape and friends');
});

test('a tensor read by several layers: a Conv2D output feeding a BatchNormalization and an Add is not folded', async () => {
  const build = (): Model | Sequential => {
    const x = input({ shape: [5, 5, 2] });
    const c = new layers.Conv2D({ filters: 3, kernelSize: 3, padding: 'same' }).apply(x);
    const bn = new layers.BatchNormalization().apply(c);
    const y = new layers.Add().apply([c, bn]);
    return model({ inputs: x, outputs: new layers.GlobalAveragePooling2D().apply(new layers.Activation('sigmoid').apply(y)) });
  };
  const m = build();
  assert.is(opCounts(m).BatchNormalization, 1);
  await checkRandomAndTrained(build, 700, 'fan-out');
});

test('an NCHW tensor read by Flatten and Reshape (both NHWC) is transposed back once, for both', async () => {
  const build = (): Model | Sequential => {
    const x = input({ shape: [4, 6, 2] });
    const c = new layers.Conv2D({ filters: 3, kernelSize: 3, padding: 'same', activation: 'elu' }).apply(x);
    const flat = new layers.Flatten().apply(c);
    const rows = new layers.Flatten().apply(new layers.Reshape({ targetShape: [8, 9] }).apply(c));
    return model({ inputs: x, outputs: new layers.Dense({ units: 2 }).apply(new layers.Concatenate().apply([flat, rows])) });
  };
  assert.is(opCounts(build()).Transpose, 2, 'one at the input, one back for Flatten and Reshape together');
  await checkRandomAndTrained(build, 800, 'two NHWC readers');
});

// The element-wise merges besides Add, which the exporter maps by class name (Sub, Mul, Mean, Max, Min).
const MERGES = { Subtract: layers.Subtract, Multiply: layers.Multiply, Average: layers.Average, Maximum: layers.Maximum, Minimum: layers.Minimum };
test(`element-wise merges ${Object.keys(MERGES).join(', ')}: NCHW convolutions and the NHWC input, two and three inputs`, async () => {
  const build = (): Model | Sequential => {
    const x = input({ shape: [5, 6, 3] });
    const a = new layers.Conv2D({ filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh' }).apply(x);
    const b = new layers.Conv2D({ filters: 3, kernelSize: 1 }).apply(x);
    const outs = Object.entries(MERGES).map(([n, Merge]) => new Merge().apply(n === 'Subtract' ? [a, x] : [a, b, x]) as SymbolicTensor);
    return model({ inputs: x, outputs: new layers.Dense({ units: 2 }).apply(new layers.GlobalAveragePooling2D().apply(new layers.Concatenate().apply(outs))) });
  };
  const ops = opCounts(build());
  assert.is(ops.Transpose, 1, `one Transpose, at the input: ${JSON.stringify(ops)}`);
  await checkRandomAndTrained(build, 900, 'merges');
});

test('a functional model with a layer that has no ONNX mapping throws naming it, before any weight is drawn', async () => {
  const x = input({ shape: [4] });
  const h = new layers.Dense({ units: 3, name: 'first' }).apply(x);
  const odd: SymbolicTensor = new CustomLayer().apply(h);
  const m = model({ inputs: x, outputs: new layers.Add().apply([h, odd]) });
  await rejects(toOnnx(m), /exportOnnx: layer 'custom(_\d+)?' \(Custom\) has no ONNX mapping; supported layers: InputLayer, Conv2D, /);
  assert.ok(!m.getLayer('first').isInitialized, 'weights still undrawn');
});

test.run();
