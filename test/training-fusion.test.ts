// Training-mode fusion of BatchNormalization → [Activation] → MaxPooling2D (src/training-fusion.ts):
// which runs match, that training with the fused ops equals training with the layers one by one
// (same backend with the fused ops hidden), and that the fused ops are what actually ran.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBackend, setBackend } from '../src/backend/index.js';
import type { Backend } from '../src/backend/types.js';
import { Activation, BatchNormalization, Conv2D, Dense, Flatten, MaxPooling2D, type Layer } from '../src/layers/index.js';
import { SGD } from '../src/optimizers.js';
import { Sequential } from '../src/sequential.js';
import { Tensor, type Shape } from '../src/tensor.js';
import { matchBnActPool, trainingUnits } from '../src/training-fusion.js';
import { buildUserModel } from '../examples/lib/user-model.js';
import { assertClose, randomArray } from './helpers.js';

test.before(() => void setBackend('cpu'));
test.after(() => void setBackend('cpu'));

test('matchBnActPool: the seed model fuses its first BatchNormalization → relu → pool; other runs do not match', () => {
  const model = buildUserModel(24);
  const run = matchBnActPool(model.layers, 1);
  assert.ok(run && run.bn === model.layers[1] && run.pool === model.layers[3] && run.activation === 'relu' && run.length === 3);
  assert.is(matchBnActPool(model.layers, 0), null, 'a Conv2D starts no run');
  const bn = () => new BatchNormalization();
  const cases: [string, Layer[], number | null][] = [
    ['BN → pool', [bn(), new MaxPooling2D()], 2],
    ["BN → Activation('linear') → pool 3×3", [bn(), new Activation('linear'), new MaxPooling2D({ poolSize: 3 })], 3],
    ['BN → pool with strides 1 (overlapping windows)', [bn(), new MaxPooling2D({ poolSize: 2, strides: 1 })], null],
    ["BN → pool 'same'", [bn(), new MaxPooling2D({ padding: 'same' })], null],
    ["BN → Activation('tanh') → pool", [bn(), new Activation('tanh'), new MaxPooling2D()], null],
    ['BN → Dense', [bn(), new Dense({ units: 2 })], null],
  ];
  for (const [name, layers, length] of cases) assert.is(matchBnActPool(layers, 0)?.length ?? null, length, name);
  const sizes = trainingUnits(model.layers, getBackend()).map((u) => u.layers.length);
  assert.equal(sizes, [1, 3, ...new Array(model.layers.length - 4).fill(1)], 'cpu: one fused unit, every layer once');
  setBackend('reference');
  try {
    assert.ok(trainingUnits(model.layers, getBackend()).every((u) => u.layers.length === 1), 'reference has no fused ops: layer by layer');
  } finally {
    setBackend('cpu');
  }
});

/** Runs body with the cpu backend's fused batch-norm/pool ops hidden (so training goes layer by layer). */
function withoutFusedOps<T>(body: () => T): T {
  const b = getBackend() as Backend;
  const { batchNormActPoolTrain, batchNormActPoolBackward } = b;
  delete b.batchNormActPoolTrain;
  delete b.batchNormActPoolBackward;
  try {
    return body();
  } finally {
    Object.assign(b, { batchNormActPoolTrain, batchNormActPoolBackward });
  }
}

function model(layers: () => Layer[], seed: number): Sequential {
  const m = new Sequential({ layers: layers() });
  m.compile({ optimizer: new SGD({ learningRate: 0.05, momentum: 0.9 }), loss: 'meanSquaredError' });
  const names = m.params().map((p) => p.name.split('/').pop());
  const ranges: Record<string, [number, number]> = { kernel: [-0.4, 0.4], bias: [-0.2, 0.2], gamma: [0.5, 1.5], beta: [-0.5, 0.5] };
  m.setWeights(m.getWeights().map((w, i) => (ranges[names[i]!] ? new Tensor(randomArray(w.size, seed + i, ...ranges[names[i]!]!), w.shape) : w)));
  return m;
}

const variants: { name: string; input: [number, number, number]; layers: () => Layer[] }[] = [
  {
    name: 'seed-like: Conv2D → BN → relu → pool 2, Dense after',
    input: [20, 22, 3],
    layers: () => [new Conv2D({ filters: 16, kernelSize: 3, padding: 'same', inputShape: [20, 22, 3] }), new BatchNormalization(), new Activation('relu'), new MaxPooling2D(), new Flatten(), new Dense({ units: 2 })],
  },
  {
    name: 'odd sizes and channels, pool 3×3, BN → pool without activation, no scale/center',
    input: [11, 13, 2],
    layers: () => [new Conv2D({ filters: 5, kernelSize: 2, inputShape: [11, 13, 2] }), new BatchNormalization({ scale: false, center: false, momentum: 0.5 }), new MaxPooling2D({ poolSize: 3 }), new Flatten(), new Dense({ units: 1 })],
  },
  {
    name: 'BN first (its input gradient not needed), pool [2, 3]',
    input: [8, 9, 4],
    layers: () => [new BatchNormalization({ inputShape: [8, 9, 4] }), new Activation('relu'), new MaxPooling2D({ poolSize: [2, 3] }), new Flatten(), new Dense({ units: 1 })],
  },
];

for (const v of variants) {
  test(`fused training = layer-by-layer training, 3 SGD-momentum steps: ${v.name}`, async () => {
    const fused = model(v.layers, 10);
    const plain = model(v.layers, 10);
    const n = 6;
    const x = new Tensor(randomArray(n * v.input[0] * v.input[1] * v.input[2], 3, -1, 2), [n, ...v.input] as unknown as Shape);
    const units = fused.outputShape.reduce((a, b) => a * b, 1);
    const y = new Tensor(randomArray(n * units, 4), [n, units] as unknown as Shape);
    const b = getBackend();
    let calls = 0;
    const train = b.batchNormActPoolTrain!;
    b.batchNormActPoolTrain = (...a) => (calls++, train(...a));
    try {
      for (let step = 0; step < 3; step++) {
        const lf = await fused.trainOnBatch(x, y);
        const lp = await withoutFusedOps(() => plain.trainOnBatch(x, y));
        assertClose([lf.loss], [lp.loss], { atol: 1e-6, rtol: 1e-5 }, `step ${step} loss`);
      }
    } finally {
      b.batchNormActPoolTrain = train;
    }
    assert.is(calls, 3, 'the fused op ran once per step');
    const wf = fused.getWeights();
    const wp = plain.getWeights();
    wf.forEach((w, i) => assertClose(w.values, wp[i].values, { atol: 1e-5, rtol: 1e-4 }, `weight ${fused.params()[i].name}`));
  });
}

test('fused forward checks its input like the layers do', () => {
  const bn = new BatchNormalization();
  bn.build([4, 4, 3]);
  assert.throws(() => bn.forwardActPool(new Tensor(new Float32Array(2 * 4 * 4 * 5), [2, 4, 4, 5]), 'relu', [2, 2]), /BatchNormalization '.*': expects \(None, height, width, 3\) before a pool, got \[2, 4, 4, 5\]/);
});

test.run();
