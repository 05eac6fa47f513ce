// Training-mode fusion of BatchNormalization or Conv2D → [Activation] → MaxPooling2D (src/model/fusion.ts):
// which runs match, that training with the fused ops equals training with the layers one by one
// (same backend with the fused ops hidden), and that the fused ops are what actually ran.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBackend, setBackend } from '../src/backend/index.js';
import { NO_FUSED_OPS, type Backend, type FusedOps } from '../src/backend/types.js';
import { Activation, BatchNormalization, Conv2D, Dense, Flatten, MaxPooling2D, type Layer } from '../src/layers/index.js';
import { SGD } from '../src/train/optimizers.js';
import { Sequential } from '../src/model/sequential.js';
import { Tensor, type Shape } from '../src/tensor.js';
import { matchRun, planFusion } from '../src/model/fusion.js';
import { Random } from '../src/util/random.js';
import { buildUserModel } from '../examples/lib/user-model.js';
import { assertClose, randomArray } from './helpers.js';

test.before(() => void setBackend('cpu'));
test.after(() => void setBackend('cpu'));

/** matchRun in training mode with every fused op available. */
const ALL: FusedOps = { conv: {} as NonNullable<FusedOps['conv']>, batchNormActPool: {} as NonNullable<FusedOps['batchNormActPool']> };
const matchBnActPool = (layers: readonly Layer[], i: number) => {
  const run = matchRun(layers, i, 'training', ALL);
  return run?.kind === 'batchNorm' ? run : null;
};
const matchConvPool = (layers: readonly Layer[], i: number) => {
  const run = matchRun(layers, i, 'training', ALL);
  return run?.kind === 'conv' && run.pool ? run : null;
};

test('matchRun (training): the seed model fuses its first BatchNormalization → relu → pool; other runs do not match', () => {
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
  const conv = () => new Conv2D({ filters: 4, kernelSize: 3 });
  const convCases: [string, Layer[], number | null][] = [
    ["Conv2D('relu') → pool", [new Conv2D({ filters: 4, kernelSize: 3, activation: 'relu' }), new MaxPooling2D()], 2],
    ["Conv2D → Activation('relu') → pool", [conv(), new Activation('relu'), new MaxPooling2D()], 3],
    ["Conv2D('relu') → Activation('relu') → pool: the Activation is a layer of its own", [new Conv2D({ filters: 4, kernelSize: 3, activation: 'relu' }), new Activation('relu'), new MaxPooling2D()], null],
    ["Conv2D('tanh') → pool", [new Conv2D({ filters: 4, kernelSize: 3, activation: 'tanh' }), new MaxPooling2D()], null],
    ['Conv2D → BN (the BN run is matched from the BN)', [conv(), new BatchNormalization(), new MaxPooling2D()], null],
  ];
  for (const [name, layers, length] of convCases) assert.is(matchConvPool(layers, 0)?.length ?? null, length, name);
  const plan = planFusion(model.layers, getBackend(), 'training');
  assert.equal(plan.map((u) => u.layers.length), [1, 3, 2, 2, 2, ...new Array(model.layers.length - 10).fill(1)], 'cpu: BN → relu → pool and three Conv2D → pool units, every layer once');
  assert.equal(
    plan.slice(0, 5).map((u) => u.op),
    ['conv.conv2d', 'batchNormActPool.train', 'conv.conv2dMaxPoolTrain', 'conv.conv2dMaxPoolTrain', 'conv.conv2dMaxPoolTrain'],
    'the plan names the fused op of each run (the first Conv2D alone, as conv + bias)',
  );
  assert.equal(model.fusionPlan('training').map((u) => u.op), plan.map((u) => u.op), 'Sequential.fusionPlan shows the same plan');
  const noBn = planFusion(model.layers, { ...getBackend(), fused: { conv: getBackend().fused.conv, batchNormActPool: null } }, 'training');
  assert.equal(noBn.slice(0, 4).map((u) => u.op), ['conv.conv2d', null, null, null], 'without the fused batch-norm ops BN, relu and pool run on their own');
  assert.ok(planFusion(model.layers, { ...getBackend(), fused: NO_FUSED_OPS }, 'training').every((u) => u.layers.length === 1 && u.op === null), 'no fused ops: layer by layer');
});

/** Runs body with the cpu backend's fused ops hidden (so training goes layer by layer, each layer its own ops). */
function withoutFusedOps<T>(body: () => T): T {
  const b = getBackend() as { fused: FusedOps };
  const fused = b.fused;
  b.fused = NO_FUSED_OPS;
  try {
    return body();
  } finally {
    b.fused = fused;
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

const variants: { name: string; input: [number, number, number]; layers: () => Layer[]; bnCalls?: number; convCalls?: number }[] = [
  {
    name: 'seed-like: Conv2D → BN → relu → pool 2 → Conv2D(relu) → pool, Dense after',
    input: [20, 22, 3],
    layers: () => [
      new Conv2D({ filters: 16, kernelSize: 3, padding: 'same', inputShape: [20, 22, 3] }), new BatchNormalization(), new Activation('relu'), new MaxPooling2D(),
      new Conv2D({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }), new MaxPooling2D(), new Flatten(), new Dense({ units: 2 }),
    ],
    convCalls: 3,
  },
  {
    name: "first-layer Conv2D(relu) → pool 2 (3 channels: the direct kernels; no input gradient), odd sizes",
    input: [13, 11, 3],
    layers: () => [new Conv2D({ filters: 16, kernelSize: 3, activation: 'relu', inputShape: [13, 11, 3] }), new MaxPooling2D(), new Flatten(), new Dense({ units: 1 })],
    bnCalls: 0,
    convCalls: 3,
  },
  {
    name: "Conv2D stride 2 → Activation('relu') → pool 3×3, then Conv2D(linear) → pool [1, 2]",
    input: [21, 19, 5],
    layers: () => [
      new Conv2D({ filters: 6, kernelSize: 3, strides: 2, inputShape: [21, 19, 5] }), new Activation('relu'), new MaxPooling2D({ poolSize: 3 }),
      new Conv2D({ filters: 7, kernelSize: 1 }), new MaxPooling2D({ poolSize: [1, 2] }), new Flatten(), new Dense({ units: 1 }),
    ],
    bnCalls: 0,
    convCalls: 6,
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
    const { conv: convOps, batchNormActPool: bnOps } = getBackend().fused;
    const calls = { bn: 0, conv: 0 };
    const train = bnOps!.train;
    const convTrain = convOps!.conv2dMaxPoolTrain;
    bnOps!.train = (...a) => (calls.bn++, train(...a));
    convOps!.conv2dMaxPoolTrain = (...a) => (calls.conv++, convTrain(...a));
    try {
      for (let step = 0; step < 3; step++) {
        const lf = await fused.trainOnBatch(x, y);
        const lp = await withoutFusedOps(() => plain.trainOnBatch(x, y));
        assertClose([lf.loss], [lp.loss], { atol: 1e-6, rtol: 1e-5 }, `step ${step} loss`);
      }
    } finally {
      bnOps!.train = train;
      convOps!.conv2dMaxPoolTrain = convTrain;
    }
    assert.equal(calls, { bn: v.bnCalls ?? 3, conv: v.convCalls ?? 0 }, 'fused ops run once per run and step');
    const wf = fused.getWeights();
    const wp = plain.getWeights();
    wf.forEach((w, i) => assertClose(w.values, wp[i].values, { atol: 1e-5, rtol: 1e-4 }, `weight ${fused.params()[i].name}`));
  });
}

test('fused forward checks its input like the layers do', () => {
  const layers = [new BatchNormalization(), new MaxPooling2D()];
  layers[0].build([4, 4, 3]);
  const [unit] = planFusion(layers, getBackend(), 'training');
  assert.is(unit.op, 'batchNormActPool.train');
  assert.throws(() => unit.forward(new Tensor(new Float32Array(2 * 4 * 4 * 5), [2, 4, 4, 5]), { training: true, rng: new Random(1) }), /BatchNormalization '.*': expects \(None, height, width, 3\) before a pool, got \[2, 4, 4, 5\]/);
});

test.run();
