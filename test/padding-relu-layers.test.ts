// ZeroPadding2D and ReLU layers: gradient checks on every backend, hand-computed values, Sequential
// shape inference, a tscnn save/load round trip, and bad options. TF.js parity:
// test/tfjs-parity-mobilenet.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Tensor } from '../src/tensor.js';
import { loadModel, toMemory } from '../src/io/index.js';
import { Conv2D, Dense, Flatten, ReLU, ZeroPadding2D, type ZeroPadding } from '../src/layers/index.js';
import { Sequential } from '../src/model/sequential.js';
import { tensor } from '../src/tensor.js';
import { Random } from '../src/util/random.js';
import { assertClose, backendTest, randomArray, throws } from './helpers.js';
import { asTensor, checkLayer, prepare } from './layer-check.js';

const ctx = { training: true, rng: new Random(1) };

for (const padding of [1, [2, 0], [[0, 1], [2, 1]]] as ZeroPadding[]) {
  backendTest(`gradcheck: ZeroPadding2D padding ${JSON.stringify(padding)} on [2, 3, 4, 2]`, () => {
    const layer = new ZeroPadding2D({ padding: padding as ZeroPadding });
    prepare(layer, [2, 3, 4, 2], 1);
    checkLayer('ZeroPadding2D', layer, randomArray(48, 3), [2, 3, 4, 2]);
  });
}

backendTest('ZeroPadding2D [[1, 0], [0, 2]] on [1, 2, 2, 1]: hand-computed values and dx', () => {
  const layer = new ZeroPadding2D({ padding: [[1, 0], [0, 2]] });
  layer.build([2, 2, 1]);
  assert.equal(layer.outputShape, [3, 4, 1]);
  const y = layer.forward(asTensor(Float32Array.of(1, 2, 3, 4), [1, 2, 2, 1]));
  assert.equal([...y.shape], [1, 3, 4, 1]);
  assertClose(y.values, [0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0], { atol: 0, rtol: 0 }, 'y');
  const dx = layer.backward(asTensor(Float32Array.from({ length: 12 }, (_, i) => i), [1, 3, 4, 1]), true)!;
  assertClose(dx.values, [4, 5, 8, 9], { atol: 0, rtol: 0 }, 'dx');
});

/** Values at least 0.1 from every kink of the relu, so central differences with h = 0.01 see no corner. */
function awayFromKinks(n: number, seed: number, kinks: number[]): Float32Array {
  const x = randomArray(n, seed, -3, 3);
  for (let i = 0; i < n; i++) for (const k of kinks) if (Math.abs(x[i] - k) < 0.1) x[i] = k + 0.15;
  return x;
}

const reluConfigs = [{}, { maxValue: 1 }, { negativeSlope: 0.2 }, { maxValue: 2, negativeSlope: 0.3, threshold: 0.5 }, { threshold: 1 }];
for (const config of reluConfigs) {
  backendTest(`gradcheck: ReLU ${JSON.stringify(config)} on [2, 3, 3, 4]`, () => {
    const layer = new ReLU(config);
    prepare(layer, [2, 3, 3, 4], 1);
    const kinks = [0, (config as { threshold?: number }).threshold ?? 0, (config as { maxValue?: number }).maxValue ?? 0];
    checkLayer('ReLU', layer, awayFromKinks(72, 9, kinks), [2, 3, 3, 4]);
  });
}

backendTest('ReLU maxValue 3, negativeSlope 0.5, threshold 1: hand-computed values and dx (Keras relu)', () => {
  const layer = new ReLU({ maxValue: 3, negativeSlope: 0.5, threshold: 1 });
  layer.build([6]);
  const y = layer.forward(asTensor(Float32Array.of(-2, 0, 0.5, 1.5, 3.5, 7), [1, 6]), ctx);
  assertClose(y.values, [-1.5, -0.5, -0.25, 1.5, 3, 3], { atol: 1e-7, rtol: 1e-7 }, 'y');
  const dx = layer.backward(asTensor(new Float32Array(6).fill(2), [1, 6]), true)!;
  assertClose(dx.values, [1, 1, 1, 2, 0, 0], { atol: 0, rtol: 0 }, 'dx');
});

test('Sequential: ZeroPadding2D and ReLU shapes, saved and read back by tscnn with their options', async () => {
  const m = new Sequential();
  m.add(new ZeroPadding2D({ padding: [[1, 2], [0, 1]], inputShape: [5, 4, 2] }));
  m.add(new Conv2D({ filters: 3, kernelSize: 3 }));
  m.add(new ReLU({ maxValue: 6, negativeSlope: 0.1 }));
  m.add(new Flatten());
  m.add(new Dense({ units: 2 }));
  assert.equal(m.layers[0].outputShape, [8, 5, 2]);
  assert.equal(m.layers[1].outputShape, [6, 3, 3]);
  assert.equal(m.layers[2].outputShape, [6, 3, 3]);
  const x = tensor(randomArray(2 * 5 * 4 * 2, 8), [2, 5, 4, 2]);
  const again = await loadModel(toMemory(m));
  assert.equal(again.layers[0].getConfig(), m.layers[0].getConfig());
  assert.equal(again.layers[2].getConfig(), m.layers[2].getConfig());
  assertClose(((await again.predict(x)) as Tensor).values, ((await m.predict(x)) as Tensor).values, { atol: 0, rtol: 0 }, 'predictions after loading');
});

test('ZeroPadding2D and ReLU: bad options and inputs throw naming the layer and the value', () => {
  throws(() => new ZeroPadding2D({ padding: -1 }), /ZeroPadding2D .*padding must be a non-negative integer, \[h, w\] or \[\[top, bottom\], \[left, right\]\], got -1/);
  throws(() => new ZeroPadding2D({ padding: [[1, 2], [3]] as unknown as [[number, number], [number, number]] }), /ZeroPadding2D .*got \[\[1,2\],\[3\]\]/);
  throws(() => new ZeroPadding2D({ pad: 1 } as object), /ZeroPadding2D: unknown option 'pad'/);
  throws(() => new ZeroPadding2D({ padding: 1 }).computeOutputShape([4, 4]), /ZeroPadding2D .*expects input of shape \(None, height, width, channels\), got \(None, 4, 4\)/);
  throws(() => new ReLU({ maxValue: -1 }), /ReLU .*maxValue must be a finite number ≥ 0, got -1/);
  throws(() => new ReLU({ negativeSlope: NaN }), /ReLU .*negativeSlope must be a finite number ≥ 0, got null/);
  throws(() => new ReLU({ threshold: '1' as unknown as number }), /ReLU .*threshold must be a finite number ≥ 0, got "1"/);
  throws(() => new ReLU({ alpha: 1 } as object), /ReLU: unknown option 'alpha'/);
});

test.run();
