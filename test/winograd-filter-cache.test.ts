// The Winograd F(4×4) filter transforms the cpu backend keeps in its memory between inference
// calls (heldWinograd4Filter, src/backend/wasm/conv-winograd.ts), keyed on the weight's version
// (src/layers/weight.ts) or, for a Conv2D + BatchNormalization fold, the fold's. After every kind
// of weight write the model's prediction must equal that of a fresh copy of the model (which
// transforms its filters anew): a transform served stale fails here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setBackend } from '../src/backend/index.js';
import { heldFilterStats } from '../src/backend/wasm/conv-winograd.js';
import { Activation, BatchNormalization, Conv2D, Dense, Flatten, MaxPooling2D } from '../src/layers/index.js';
import { weightValues } from '../src/layers/weight.js';
import { Sequential } from '../src/model/sequential.js';
import { SGD } from '../src/train/optimizers.js';
import { Tensor, type Shape } from '../src/tensor.js';
import { assertClose, randomArray } from './helpers.js';

test.before(() => void setBackend('cpu'));

// Two convolutions that inference runs as F(4×4) with the pool in the output transform: one with
// a batch norm folded into it, one on its own weights. The first layer (3 channels) runs direct.
function build(): Sequential {
  return new Sequential({ layers: [
    new Conv2D({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [16, 16, 3] }),
    new MaxPooling2D({ poolSize: 2 }),
    new Conv2D({ filters: 16, kernelSize: 3, padding: 'same' }),
    new BatchNormalization(),
    new Activation({ activation: 'relu' }),
    new MaxPooling2D({ poolSize: 2 }),
    new Conv2D({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
    new MaxPooling2D({ poolSize: 2 }),
    new Flatten(),
    new Dense({ units: 4 }),
  ] });
}

const x = new Tensor(randomArray(6 * 16 * 16 * 3, 21, 0, 1), [6, 16, 16, 3] as unknown as Shape);
const y = new Tensor(randomArray(6 * 4, 22, 0, 1), [6, 4] as unknown as Shape);

/** Predicts with `model` (its held transforms), then with a fresh model holding the same values. */
async function expectFresh(model: Sequential, what: string): Promise<void> {
  const got = (await model.predict(x)).values;
  const fresh = build();
  fresh.setWeights(model.params().map((p) => new Tensor(weightValues(p).slice(), [...p.shape] as unknown as Shape)));
  assertClose(got, (await fresh.predict(x)).values, { atol: 1e-6, rtol: 1e-5 }, `${what}: predict against a fresh model`);
}

test('predict transforms each F(4×4) filter once and reuses it while the weights hold', async () => {
  const model = build();
  assert.equal(model.fusionPlan('inference').map((u) => u.op).filter((op) => op === 'conv.conv2dMaxPool').length, 3);
  const before = { ...heldFilterStats };
  await model.predict(x);
  assert.is(heldFilterStats.transforms, before.transforms + 2, 'the two Winograd convolutions were not transformed once each');
  await model.predict(x);
  await model.predict(x);
  assert.is(heldFilterStats.transforms, before.transforms + 2, 'a filter was transformed again without a change');
  assert.is(heldFilterStats.reuses, before.reuses + 4, 'the held transforms were not reused');
  await expectFresh(model, 'unchanged');
});

test('every writer is seen: training, setWeights, setWeightValues, host writes to a kernel and to the fold', async () => {
  const model = build();
  model.compile({ optimizer: new SGD({ learningRate: 0.2 }), loss: 'meanSquaredError' });
  await expectFresh(model, 'initialized weights');
  await model.trainOnBatch(x, y);
  await expectFresh(model, 'trainOnBatch');
  await model.fit(x, y, { epochs: 1, batchSize: 3, verbose: 0 });
  await expectFresh(model, 'fit');

  await model.predict(x);
  model.setWeights(model.params().map((p, i) => new Tensor(randomArray(p.value.length, 300 + i, 0.1, 0.9), [...p.shape] as unknown as Shape)));
  await expectFresh(model, 'setWeights');
  await model.predict(x);
  model.setWeightValues(model.params().map((p, i) => randomArray(p.value.length, 400 + i, -0.5, 0.5)));
  await expectFresh(model, 'setWeightValues');

  const before = heldFilterStats.transforms;
  await model.predict(x);
  (model.layers[6] as Conv2D).convWeights().kernel.value[5] = 3;
  await expectFresh(model, 'host write of a Conv2D kernel value');
  await model.predict(x);
  (model.layers[3] as BatchNormalization).bnWeights().movingVariance.value.set([4, 0.25, 9], 2);
  await expectFresh(model, 'host write of batch-norm moving variances (the fold)');
  await model.predict(x);
  (model.layers[2] as Conv2D).convWeights().kernel.value.fill(0.5, 0, 40);
  await expectFresh(model, 'host fill of a folded Conv2D kernel');
  assert.ok(heldFilterStats.transforms >= before + 3, 'a host write did not lead to a new transform');
});

test('another engine build transforms again rather than reading the old engine memory', async () => {
  const model = build();
  await model.predict(x);
  setBackend('cpu', { relaxedSimd: 'off' });
  try {
    await expectFresh(model, 'after switching to the plain-SIMD build');
  } finally {
    setBackend('cpu');
  }
  await expectFresh(model, 'after switching back');
});

test.run();
