// Reshape: gradient check on every backend, the row-major order kept, -1 inferred, shape
// inference in a Sequential with a tscnn save/load round trip, and bad options.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Tensor } from '../src/tensor.js';
import { loadModel, toMemory } from '../src/io/index.js';
import { Dense, GlobalAveragePooling2D, Reshape } from '../src/layers/index.js';
import { Sequential } from '../src/model/sequential.js';
import { tensor } from '../src/tensor.js';
import { assertClose, backendTest, randomArray, throws } from './helpers.js';
import { asTensor, checkLayer, prepare } from './layer-check.js';

backendTest('gradcheck: Reshape [2, 12] → [2, 2, 3, 2]', () => {
  const layer = new Reshape({ targetShape: [2, 3, -1] });
  prepare(layer, [2, 12], 1);
  checkLayer('Reshape', layer, randomArray(24, 3), [2, 12]);
});

test('Reshape [1, 6] → [1, 3, 2] keeps the row-major order; backward restores the input shape', () => {
  const layer = new Reshape({ targetShape: [-1, 2] });
  layer.build([6]);
  assert.equal(layer.outputShape, [3, 2]);
  const y = layer.forward(asTensor(Float32Array.of(1, 2, 3, 4, 5, 6), [1, 6]));
  assert.equal([...y.shape], [1, 3, 2]);
  assert.equal([...y.values], [1, 2, 3, 4, 5, 6]);
  const dx = layer.backward(asTensor(Float32Array.of(6, 5, 4, 3, 2, 1), [1, 3, 2]), true)!;
  assert.equal([...dx.shape], [1, 6]);
  assert.equal([...dx.values], [6, 5, 4, 3, 2, 1]);
});

test('Sequential: Dense → Reshape → GlobalAveragePooling2D → Dense; shapes at add(), a step, save/load', async () => {
  const m = new Sequential();
  m.add(new Dense({ units: 12, activation: 'tanh', inputShape: [5] }));
  m.add(new Reshape({ targetShape: [2, 2, 3] }));
  m.add(new GlobalAveragePooling2D());
  assert.equal(m.layers[2].outputShape, [3]);
  m.add(new Dense({ units: 1, activation: 'sigmoid' }));
  m.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy' });
  const x = tensor(randomArray(15, 4), [3, 5]);
  const before = m.layers[0].params()[0].value.slice();
  await m.trainOnBatch(x, tensor(Float32Array.of(0, 1, 1), [3, 1]));
  assert.ok(m.layers[0].params()[0].value.some((v, i) => v !== before[i]), 'the first Dense was updated through Reshape');
  const again = await loadModel(toMemory(m));
  assert.equal(again.layers[1].getConfig().targetShape, [2, 2, 3]);
  assertClose(((await again.predict(x)) as Tensor).values, ((await m.predict(x)) as Tensor).values, { atol: 0, rtol: 0 }, 'predictions after loading');
});

test('Reshape: bad options and sizes throw naming the layer and the values', () => {
  throws(() => new Reshape({ targetShape: [2, -1, -1] }), /Reshape .*targetShape must be positive integers with at most one -1, got \[2,-1,-1\]/);
  throws(() => new Reshape({ targetShape: [0, 3] }), /Reshape .*targetShape .*got \[0,3\]/);
  throws(() => new Reshape({} as { targetShape: number[] }), /Reshape .*targetShape .*got undefined/);
  throws(() => new Reshape({ targetShape: [2], target_shape: [2] } as { targetShape: number[] }), /Reshape: unknown option 'target_shape'/);
  throws(() => new Reshape({ targetShape: [4, 4] }).build([3, 5]), /Reshape .*input \(None, 3, 5\) has 15 values per sample, which targetShape \[4,4\] cannot hold/);
  throws(() => new Reshape({ targetShape: [4, -1] }).build([3, 5]), /Reshape .*15 values per sample, which targetShape \[4,-1\] cannot hold/);
  const layer = new Reshape({ targetShape: [2, 2] });
  throws(() => layer.forward(asTensor(new Float32Array(6), [2, 3])), /Reshape .*\(None, 3\) has 3 values per sample/);
});

test.run();
