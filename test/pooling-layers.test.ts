// AveragePooling2D, GlobalAveragePooling2D and GlobalMaxPooling2D: gradient checks on every
// backend, hand-computed cases, shape inference in a Sequential, bad options, and a tscnn
// save/load round trip. TF.js parity and TF.js loading: test/tfjs-parity-pooling.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Tensor } from '../src/tensor.js';
import { loadModel, toMemory } from '../src/io/index.js';
import { AveragePooling2D, Conv2D, Dense, GlobalAveragePooling2D, GlobalMaxPooling2D, type Layer } from '../src/layers/index.js';
import { Sequential } from '../src/model/sequential.js';
import { tensor } from '../src/tensor.js';
import { Random } from '../src/util/random.js';
import { assertClose, backendTest, randomArray, throws } from './helpers.js';
import { asTensor, checkLayer, distinctValues, prepare } from './layer-check.js';

const avgCases: { poolSize?: number | [number, number]; strides?: number | [number, number]; padding?: 'same' | 'valid' }[] = [
  {},
  { padding: 'same' },
  { poolSize: 3, strides: 2, padding: 'same' },
  { poolSize: 3, strides: 1, padding: 'valid' },
  { poolSize: [2, 3], strides: [1, 2], padding: 'same' },
];
for (const c of avgCases) {
  const name = `AveragePooling2D ${JSON.stringify(c)} on [2, 7, 5, 3]`;
  backendTest(`gradcheck: ${name}`, () => {
    const inShape = [2, 7, 5, 3];
    const layer = new AveragePooling2D(c);
    prepare(layer, inShape, 9);
    checkLayer(name, layer, randomArray(210, 18), inShape);
  });
}

for (const keepdims of [false, true]) {
  backendTest(`gradcheck: GlobalAveragePooling2D keepdims ${keepdims} on [2, 4, 3, 5]`, () => {
    const layer = new GlobalAveragePooling2D({ keepdims });
    prepare(layer, [2, 4, 3, 5], 4);
    checkLayer('GlobalAveragePooling2D', layer, randomArray(120, 21), [2, 4, 3, 5]);
  });
  backendTest(`gradcheck: GlobalMaxPooling2D keepdims ${keepdims} on [2, 4, 3, 5]`, () => {
    const layer = new GlobalMaxPooling2D({ keepdims });
    prepare(layer, [2, 4, 3, 5], 4);
    // Values 4/120 apart, step 2h = 0.01: the arg-max never changes under perturbation.
    checkLayer('GlobalMaxPooling2D', layer, distinctValues(120, 22), [2, 4, 3, 5], { h: 5e-3 });
  });
}

const ctx = { training: true, rng: new Random(1) };

/** x[n, h, w, c] of a [1, 2, 3, 2] image: channel 0 holds 1..6 row-major, channel 1 holds −10·(1..6). */
const image = (): Float32Array => Float32Array.from([1, -10, 2, -20, 3, -30, 4, -40, 5, -50, 6, -60]);

backendTest('GlobalAveragePooling2D [1, 2, 3, 2] → [1, 2], hand-computed, and its gradient dy/6 on every cell', () => {
  const layer = new GlobalAveragePooling2D();
  layer.build([2, 3, 2]);
  const y = layer.forward(asTensor(image(), [1, 2, 3, 2]), ctx);
  assert.equal([...y.shape], [1, 2]);
  assertClose(y.values, [3.5, -35], { atol: 0, rtol: 1e-7 }, 'means');
  const dx = layer.backward(asTensor(Float32Array.of(6, 12), [1, 2]), true)!;
  assert.equal([...dx.shape], [1, 2, 3, 2]);
  assertClose(dx.values, [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2], { atol: 0, rtol: 1e-7 }, 'dx');
});

backendTest('GlobalMaxPooling2D keepdims [1, 2, 3, 2] → [1, 1, 1, 2], hand-computed, gradient to the max cell', () => {
  const layer = new GlobalMaxPooling2D({ keepdims: true });
  layer.build([2, 3, 2]);
  const y = layer.forward(asTensor(image(), [1, 2, 3, 2]), ctx);
  assert.equal([...y.shape], [1, 1, 1, 2]);
  assert.equal([...y.values], [6, -10]);
  const dx = layer.backward(asTensor(Float32Array.of(3, 7), [1, 1, 1, 2]), true)!;
  assert.equal([...dx.values], [0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0]);
});

backendTest("AveragePooling2D pool 2 'same' on [1, 2, 3, 2]: the border window averages its 2 inside cells", () => {
  const layer = new AveragePooling2D({ poolSize: 2, padding: 'same' });
  layer.build([2, 3, 2]);
  const y = layer.forward(asTensor(image(), [1, 2, 3, 2]), ctx);
  assert.equal([...y.shape], [1, 1, 2, 2]);
  assertClose(y.values, [3, -30, 4.5, -45], { atol: 0, rtol: 1e-7 }, 'averages');
  const dx = layer.backward(asTensor(Float32Array.of(4, 8, 2, 6), [1, 1, 2, 2]), true)!;
  assertClose(dx.values, [1, 2, 1, 2, 1, 3, 1, 2, 1, 2, 1, 3], { atol: 0, rtol: 1e-7 }, 'dx');
});

test('Sequential: shapes inferred at add(), a training step moves the weights before the pooling', async () => {
  const m = new Sequential();
  m.add(new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [8, 8, 3] }));
  m.add(new AveragePooling2D({ poolSize: 3, strides: 2, padding: 'same' }));
  assert.equal(m.layers[1].outputShape, [4, 4, 4]);
  m.add(new GlobalMaxPooling2D({ keepdims: true }));
  assert.equal(m.layers[2].outputShape, [1, 1, 4]);
  m.add(new GlobalAveragePooling2D());
  assert.equal(m.layers[3].outputShape, [4]);
  m.add(new Dense({ units: 2, activation: 'softmax' }));
  m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
  const x = tensor(randomArray(2 * 8 * 8 * 3, 5, 0, 1), [2, 8, 8, 3]);
  const y = tensor(Float32Array.of(1, 0, 0, 1), [2, 2]);
  const before = m.layers[0].params()[0].value.slice();
  await m.trainOnBatch(x, y);
  assert.ok(m.layers[0].params()[0].value.some((v, i) => v !== before[i]), 'the Conv2D kernel was updated through the pooling layers');
  assert.equal([...(await m.predict(x)).shape], [2, 2]);

  // Saved and read back by tscnn: same classes, options and predictions.
  const again = await loadModel(toMemory(m));
  assert.equal(again.layers.map((l) => l.className), ['Conv2D', 'AveragePooling2D', 'GlobalMaxPooling2D', 'GlobalAveragePooling2D', 'Dense']);
  assert.equal(again.layers[1].getConfig().padding, 'same');
  assert.equal(again.layers[1].getConfig().strides, [2, 2]);
  assert.is(again.layers[2].getConfig().keepdims, true);
  assertClose(((await again.predict(x)) as Tensor).values, ((await m.predict(x)) as Tensor).values, { atol: 0, rtol: 0 }, 'predictions after loading');
});

test('bad options and inputs throw naming the layer and the value', () => {
  throws(() => new AveragePooling2D({ dataFormat: 'channelsFirst' as 'channelsLast' }), /AveragePooling2D .*dataFormat must be 'channelsLast'.*channelsFirst/);
  throws(() => new AveragePooling2D({ poolSize: 0 }), /AveragePooling2D .*poolSize must be positive integers, got 0/);
  throws(() => new AveragePooling2D({ padding: 'full' as 'same' }), /AveragePooling2D .*padding must be 'valid' or 'same', got "full"/);
  throws(() => new AveragePooling2D({ pool_size: 2 } as object), /AveragePooling2D: unknown option 'pool_size'/);
  throws(() => new GlobalAveragePooling2D({ keepDims: true } as object), /GlobalAveragePooling2D: unknown option 'keepDims'/);
  throws(() => new GlobalMaxPooling2D({ keepdims: 1 as unknown as boolean }), /GlobalMaxPooling2D .*keepdims must be a boolean, got 1/);
  const layers: Layer[] = [new AveragePooling2D({ poolSize: 3 }), new GlobalAveragePooling2D(), new GlobalMaxPooling2D()];
  for (const l of layers) throws(() => l.build([4, 5]), new RegExp(`${l.className} .*expects input of shape \\(None, height, width, channels\\), got \\(None, 4, 5\\)`));
  throws(() => new AveragePooling2D({ poolSize: 3 }).build([2, 5, 1]), /AveragePooling2D .*input \(None, 2, 5, 1\) is smaller than the 3×3 pool/);
});

test.run();
