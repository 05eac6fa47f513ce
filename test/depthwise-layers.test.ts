// DepthwiseConv2D and SeparableConv2D layers: gradient checks on every backend (input and every
// weight), a hand-computed case, Sequential shape inference, Keras weight names and order, a tscnn
// save/load round trip, and bad options. TF.js parity: test/tfjs-parity-mobilenet.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Tensor } from '../src/tensor.js';
import { loadModel, toMemory } from '../src/io/index.js';
import { DepthwiseConv2D, Dense, Flatten, SeparableConv2D } from '../src/layers/index.js';
import { Sequential } from '../src/model/sequential.js';
import { tensor } from '../src/tensor.js';
import { Random } from '../src/util/random.js';
import { assertClose, backendTest, randomArray, throws } from './helpers.js';
import { asTensor, checkLayer, prepare } from './layer-check.js';

const depthwiseCases = [
  { kernelSize: 3, padding: 'same' as const },
  { kernelSize: [3, 2] as [number, number], strides: 2, depthMultiplier: 2, activation: 'tanh' as const },
  { kernelSize: 2, useBias: false, depthMultiplier: 3, padding: 'same' as const },
  { kernelSize: 3, dilationRate: 2 },
];
for (const config of depthwiseCases) {
  backendTest(`gradcheck: DepthwiseConv2D ${JSON.stringify(config)} on [2, 6, 6, 3]`, () => {
    const layer = new DepthwiseConv2D(config);
    prepare(layer, [2, 6, 6, 3], 2);
    checkLayer('DepthwiseConv2D', layer, randomArray(2 * 6 * 6 * 3, 4), [2, 6, 6, 3]);
  });
}

const separableCases = [
  { filters: 4, kernelSize: 3, padding: 'same' as const },
  { filters: 5, kernelSize: 3, strides: 2, depthMultiplier: 2, activation: 'tanh' as const },
  { filters: 2, kernelSize: 2, useBias: false },
];
for (const config of separableCases) {
  backendTest(`gradcheck: SeparableConv2D ${JSON.stringify(config)} on [2, 5, 5, 3]`, () => {
    const layer = new SeparableConv2D(config);
    prepare(layer, [2, 5, 5, 3], 3);
    checkLayer('SeparableConv2D', layer, randomArray(2 * 5 * 5 * 3, 6), [2, 5, 5, 3]);
  });
}

backendTest('DepthwiseConv2D 2×2 valid, depthMultiplier 2, bias on [1, 2, 3, 2]: hand-computed', () => {
  const layer = new DepthwiseConv2D({ kernelSize: 2, depthMultiplier: 2 });
  layer.build([2, 3, 2]);
  const [kernel, bias] = layer.params();
  assert.equal(kernel.shape, [2, 2, 2, 2]);
  // w[i,j,c,m]: 1 for m = 0, tap number (i·2 + j + 1) for m = 1; bias [0.5, 0, -1, 2].
  for (let tap = 0; tap < 4; tap++) for (let c = 0; c < 2; c++) kernel.value.set([1, tap + 1], (tap * 2 + c) * 2);
  bias.value.set([0.5, 0, -1, 2]);
  // Channel 0 rows [1 2 3; 4 5 6], channel 1 the negatives.
  const x = Float32Array.from([1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6]);
  const y = layer.forward(asTensor(x, [1, 2, 3, 2]), { training: false, rng: new Random(1) });
  assert.equal([...y.shape], [1, 1, 2, 4]);
  // Window (0,0): 1, 2, 4, 5 → sum 12, weighted 1 + 4 + 12 + 20 = 37; window (0,1): 2, 3, 5, 6 → 16, 47.
  assertClose(y.values, [12.5, 37, -13, -35, 16.5, 47, -17, -45], { atol: 0, rtol: 1e-7 }, 'y');
});

test('Sequential: DepthwiseConv2D / SeparableConv2D shapes, Keras weight names and order, saved and read back by tscnn', async () => {
  const m = new Sequential();
  m.add(new DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, padding: 'same', inputShape: [6, 5, 3], depthwiseRegularizer: 'l2' }));
  m.add(new SeparableConv2D({ filters: 4, kernelSize: 3, strides: 2, activation: 'relu', pointwiseRegularizer: 'l1' }));
  m.add(new Flatten());
  m.add(new Dense({ units: 2 }));
  assert.equal(m.layers[0].outputShape, [6, 5, 6]);
  assert.equal(m.layers[1].outputShape, [2, 2, 4]);
  assert.equal(m.params().slice(0, 5).map((p) => [p.name.split('/')[1], p.shape.join('x')]), [
    ['depthwise_kernel', '3x3x3x2'], ['bias', '6'], ['depthwise_kernel', '3x3x6x1'], ['pointwise_kernel', '1x1x6x4'], ['bias', '4'],
  ]);
  const x = tensor(randomArray(2 * 6 * 5 * 3, 8), [2, 6, 5, 3]);
  const again = await loadModel(toMemory(m));
  assert.equal(again.layers[0].getConfig(), m.layers[0].getConfig());
  assert.equal(again.layers[1].getConfig(), m.layers[1].getConfig());
  assertClose(((await again.predict(x)) as Tensor).values, ((await m.predict(x)) as Tensor).values, { atol: 0, rtol: 0 }, 'predictions after loading');
});

test('DepthwiseConv2D and SeparableConv2D: bad options and inputs throw naming the layer and the value', () => {
  throws(() => new DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 0 }), /DepthwiseConv2D .*depthMultiplier must be a positive integer, got 0/);
  throws(() => new DepthwiseConv2D({ kernelSize: 3, kernelInitializer: 'zeros' } as object as { kernelSize: number }), /DepthwiseConv2D: unknown option 'kernelInitializer'/);
  throws(() => new DepthwiseConv2D({ kernelSize: 3, padding: 'full' as 'same' }), /DepthwiseConv2D .*padding must be 'valid' or 'same', got "full"/);
  throws(() => new DepthwiseConv2D({ kernelSize: 5 }).computeOutputShape([3, 3, 2]), /DepthwiseConv2D .*input \(None, 3, 3, 2\) is smaller than the 5×5 kernel with padding 'valid'/);
  throws(() => new SeparableConv2D({ kernelSize: 3 } as { kernelSize: number; filters: number }), /SeparableConv2D .*filters must be a positive integer, got undefined/);
  throws(() => new SeparableConv2D({ filters: 2, kernelSize: 3, strides: 2, dilationRate: 2 }), /SeparableConv2D .*strides > 1 together with dilationRate > 1/);
  const layer = new DepthwiseConv2D({ kernelSize: 1 });
  layer.build([4, 4, 3]);
  throws(() => layer.forward(asTensor(new Float32Array(32), [1, 4, 4, 2]), { training: false, rng: new Random(1) }), /DepthwiseConv2D .*expects input \(None, height, width, 3\), got \[1, 4, 4, 2\]/);
});

test.run();
