// Weight versions (src/layers/weight.ts) and the caches keyed on them: the Dense kernel packed in
// the engine's memory (src/backend/wasm/packed-weights.ts) and the Conv2D + BatchNormalization
// fold (src/model/fusion.ts). After every kind of weight write, the model's prediction must equal
// that of a fresh copy of the model (no caches) and no packed copy may claim a version it does not
// hold: a writer that changed values without counting fails here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setBackend } from '../src/backend/index.js';
import { packedWeightStats, stalePackedWeights } from '../src/backend/wasm/packed-weights.js';
import { Activation, BatchNormalization, Conv2D, Dense, Flatten, MaxPooling2D } from '../src/layers/index.js';
import { weightValues, weightVersion } from '../src/layers/weight.js';
import { Sequential } from '../src/model/sequential.js';
import { Adam, RMSprop, SGD } from '../src/train/optimizers.js';
import { Tensor, type Shape } from '../src/tensor.js';
import { assertClose, randomArray } from './helpers.js';

test.before(() => void setBackend('cpu'));

// The Dense kernel (8·8·8 × 128 = 65,536 floats) is large enough for the packed path.
function build(): Sequential {
  return new Sequential({ layers: [
    new Conv2D({ filters: 8, kernelSize: 3, padding: 'same', inputShape: [16, 16, 3] }),
    new BatchNormalization(),
    new Activation({ activation: 'relu' }),
    new MaxPooling2D({ poolSize: 2 }),
    new Flatten(),
    new Dense({ units: 128, activation: 'relu' }),
    new Dense({ units: 1, activation: 'sigmoid' }),
  ] });
}

const x = new Tensor(randomArray(6 * 16 * 16 * 3, 11, 0, 1), [6, 16, 16, 3] as unknown as Shape);
const y = new Tensor(Float32Array.from([0, 1, 1, 0, 1, 0]), [6, 1] as unknown as Shape);

/** Predicts with `model` (its caches), then with a fresh model holding the same values (no caches). */
async function expectFresh(model: Sequential, what: string): Promise<void> {
  const params = model.params();
  const got = (await model.predict(x)).values;
  const stale = stalePackedWeights(params.map((p) => ({ values: weightValues(p), version: weightVersion(p)! })));
  assert.is(stale.length, 0, `${what}: ${stale.length} packed weight(s) hold old values under the current version`);
  const fresh = build();
  fresh.setWeights(params.map((p) => new Tensor(weightValues(p).slice(), [...p.shape] as unknown as Shape)));
  assertClose(got, (await fresh.predict(x)).values, { atol: 1e-6, rtol: 1e-5 }, `${what}: predict against a fresh model`);
}

test('predict reuses the packed Dense kernel and the fold, and changes no weight version', async () => {
  const model = build();
  await model.predict(x);
  const versions = model.params().map(weightVersion);
  const before = { ...packedWeightStats };
  await model.predict(x);
  await model.predict(x);
  assert.equal(model.params().map(weightVersion), versions, 'predict counted an access to a weight');
  assert.is(packedWeightStats.packs, before.packs, 'the Dense kernel was packed again without a change');
  assert.is(packedWeightStats.reuses, before.reuses + 2, 'the packed Dense kernel was not reused');
  await expectFresh(model, 'unchanged');
});

test('every writer counts: optimizer steps, fit, setWeights, setWeightValues, host writes, initializer', async () => {
  const model = build();
  await expectFresh(model, 'initialized weights');
  for (const [name, optimizer] of [['SGD', new SGD({ learningRate: 0.5, momentum: 0.9 })], ['Adam', new Adam({ learningRate: 0.05 })], ['RMSprop', new RMSprop({ learningRate: 0.05 })]] as const) {
    model.compile({ optimizer, loss: 'binaryCrossentropy' });
    await model.predict(x);
    await model.trainOnBatch(x, y);
    await expectFresh(model, `trainOnBatch with ${name}`);
  }
  await model.predict(x);
  await model.fit(x, y, { epochs: 2, batchSize: 3, verbose: 0 });
  await expectFresh(model, 'fit (weights and batch-norm moving statistics)');

  await model.predict(x);
  model.setWeights(model.params().map((p, i) => new Tensor(randomArray(p.value.length, 100 + i, 0.1, 0.9), [...p.shape] as unknown as Shape)));
  await expectFresh(model, 'setWeights');

  await model.predict(x);
  model.setWeightValues(model.params().map((p, i) => randomArray(p.value.length, 200 + i, 0.1, 0.9)));
  await expectFresh(model, 'setWeightValues');

  const dense = model.layers[5] as Dense;
  const bn = model.layers[1] as BatchNormalization;
  await model.predict(x);
  dense.params()[0].value[7] += 3;
  await expectFresh(model, 'host write of one Dense kernel value');
  await model.predict(x);
  dense.params()[0].value.fill(0.01, 100, 5000);
  await expectFresh(model, 'host fill of Dense kernel values');
  await model.predict(x);
  bn.bnWeights().movingVariance.value.set([4, 0.25, 9], 2);
  await expectFresh(model, 'host write of batch-norm moving variances (the fold)');
  await model.predict(x);
  (model.layers[0] as Conv2D).convWeights().kernel.value[0] = -2;
  await expectFresh(model, 'host write of a Conv2D kernel value (the fold)');
});

test('a write through an array kept from before the cached call is what the check catches', async () => {
  const model = build();
  const kernel = (model.layers[5] as Dense).params()[0];
  await model.predict(x);
  const kept = kernel.value;
  await model.predict(x);
  kept[3] += 1;
  const claim = [{ values: weightValues(kernel), version: weightVersion(kernel)! }];
  assert.is(stalePackedWeights(claim).length, 1, 'an uncounted write went unnoticed by stalePackedWeights');
  void kernel.value; // counts: the next predict packs again
  await expectFresh(model, 'after counting the kept write');
});

test.run();
