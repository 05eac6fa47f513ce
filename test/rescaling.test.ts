// Rescaling: gradient check on every backend, hand-computed values, a tscnn save/load round
// trip, and bad options. TF.js parity: test/tfjs-parity-pooling.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Tensor } from '../src/tensor.js';
import { loadModel, toMemory } from '../src/io/index.js';
import { Dense, Rescaling } from '../src/layers/index.js';
import { Sequential } from '../src/model/sequential.js';
import { tensor } from '../src/tensor.js';
import { assertClose, backendTest, randomArray, throws } from './helpers.js';
import { asTensor, checkLayer, prepare } from './layer-check.js';

for (const offset of [0, -0.5]) {
  backendTest(`gradcheck: Rescaling scale 1.5 offset ${offset} on [2, 3, 2, 2]`, () => {
    const layer = new Rescaling({ scale: 1.5, offset });
    prepare(layer, [2, 3, 2, 2], 1);
    checkLayer('Rescaling', layer, randomArray(24, 5), [2, 3, 2, 2]);
  });
}

backendTest('Rescaling 1/255 offset −1 on [1, 4]: hand-computed values, dx = scale·dy', () => {
  const layer = new Rescaling({ scale: 2 / 255, offset: -1 });
  layer.build([4]);
  const y = layer.forward(asTensor(Float32Array.of(0, 127.5, 255, 51), [1, 4]));
  assert.equal([...y.shape], [1, 4]);
  assertClose(y.values, [-1, 0, 1, -0.6], { atol: 1e-6, rtol: 1e-6 }, 'y');
  const dx = layer.backward(asTensor(Float32Array.of(255, 510, -255, 0), [1, 4]), true)!;
  assertClose(dx.values, [2, 4, -2, 0], { atol: 1e-6, rtol: 1e-6 }, 'dx');
});

test('Sequential: Rescaling first (inputShape), saved and read back by tscnn with its options', async () => {
  const m = new Sequential();
  m.add(new Rescaling({ scale: 0.5, offset: 0.25, inputShape: [3] }));
  m.add(new Dense({ units: 2 }));
  assert.equal(m.layers[0].outputShape, [3]);
  const x = tensor(randomArray(6, 8), [2, 3]);
  const again = await loadModel(toMemory(m));
  assert.equal(again.layers[0].getConfig(), m.layers[0].getConfig());
  assertClose(((await again.predict(x)) as Tensor).values, ((await m.predict(x)) as Tensor).values, { atol: 0, rtol: 0 }, 'predictions after loading');
});

test('Rescaling: bad options throw naming the layer and the value', () => {
  throws(() => new Rescaling({} as { scale: number }), /Rescaling .*scale must be a finite number, got undefined/);
  throws(() => new Rescaling({ scale: NaN }), /Rescaling .*scale must be a finite number, got null/);
  throws(() => new Rescaling({ scale: 1, offset: '1' as unknown as number }), /Rescaling .*offset must be a finite number, got "1"/);
  throws(() => new Rescaling({ scale: 1, bias: 2 } as { scale: number }), /Rescaling: unknown option 'bias'/);
});

test.run();
