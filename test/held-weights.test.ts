// A model's large weights and gradients held in the engine's memory (the cpu backend's `hold`,
// src/backend/wasm/resident.ts holdResident): SGD updates them in place and the ops read them
// where they are. Every result must be the same bits as with the arrays on the host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBackend, setBackend } from '../src/backend/index.js';
import { referenceBackend } from '../src/backend/reference/index.js';
import { getEngine } from '../src/backend/wasm/engine.js';
import { OutputArena } from '../src/backend/arena.js';
import { holdResident, residentAt, residentBytes } from '../src/backend/wasm/resident.js';
import { Dense } from '../src/layers/index.js';
import { weightValues } from '../src/layers/weight.js';
import { Sequential } from '../src/model/sequential.js';
import { SGD } from '../src/train/optimizers.js';
import { Tensor, type Shape } from '../src/tensor.js';
import { assertIdentical, randomArray } from './helpers.js';

const e = getEngine();
const resident = (a: Float32Array): boolean => e !== null && residentAt(e, a) >= 0;

test.before(() => void setBackend('cpu'));
test.after(() => void setBackend('cpu'));

test('holdResident: a large array moves once into a region of its own, a small one stays', () => {
  if (e === null) return;
  const a = randomArray(70001, 1);
  const held = holdResident(a);
  assert.ok(held !== a && resident(held), 'a large array was not moved into the engine');
  assertIdentical(held, a, 'held copy');
  assert.is(holdResident(held), held, 'a held array was moved again');
  assert.is(new OutputArena().run(() => holdResident(a)), a, 'an array was held inside an arena (a step\'s batch)');
  const small = randomArray(1000, 2);
  assert.is(holdResident(small), small, 'a small array was moved');
  setBackend('cpu', { residentOutputs: false });
  try {
    assert.is(holdResident(a), a, 'residentOutputs: false still moved an array');
  } finally {
    setBackend('cpu');
  }
});

test('sgdUpdate on held and host arrays, in every mix: the reference\'s bits, in place', () => {
  const n = 70001;
  const cpu = getBackend();
  for (const mix of [[1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]) {
    const take = (a: Float32Array, i: number) => (mix[i] ? holdResident(a) : a);
    for (const momentum of [0, 0.9]) {
      const start = randomArray(n, 3);
      const value = take(start.slice(), 0);
      const want = start.slice();
      const velocity = momentum ? take(new Float32Array(n), 2) : null;
      const wantVelocity = momentum ? new Float32Array(n) : null;
      for (let step = 0; step < 3; step++) {
        const grad = take(randomArray(n, 4 + step), 1);
        cpu.sgdUpdate(value, grad, velocity, 0.1, momentum, true);
        referenceBackend.sgdUpdate(want, grad.slice(), wantVelocity, 0.1, momentum, true);
      }
      assertIdentical(value, want, `value, held ${mix}, momentum ${momentum}`);
      if (velocity) assertIdentical(velocity, wantVelocity!, `velocity, held ${mix}`);
    }
  }
});

// Dense kernels of 300 × 256 = 76,800 floats: large enough to be held.
function build(): Sequential {
  const m = new Sequential({ layers: [new Dense({ units: 256, activation: 'relu', inputShape: [300] }), new Dense({ units: 1, activation: 'sigmoid' })] });
  m.compile({ optimizer: new SGD({ learningRate: 0.05 }), loss: 'binaryCrossentropy' });
  return m;
}

test('hold(a, true) copies a large batch into the engine for the running step only', () => {
  if (e === null) return;
  const cpu = getBackend();
  const a = randomArray(70001, 6);
  assert.is(cpu.hold(a, true), a, 'outside a step the batch was copied');
  const arena = new OutputArena();
  const inStep = arena.run(() => cpu.hold(a, true));
  assert.ok(inStep !== a && resident(inStep), 'in a step the batch was not copied into the engine');
  assertIdentical(inStep, a, 'the step\'s copy');
  const small = randomArray(100, 7);
  assert.is(arena.run(() => cpu.hold(small, true)), small, 'a small batch was copied');
  arena.clear();
});

test('a model trains and predicts with its Dense kernel and batch held: the same bits as on the host', async () => {
  if (e === null) return;
  const x = new Tensor(randomArray(8 * 300, 5, 0, 1), [8, 300] as unknown as Shape);
  const y = new Tensor(Float32Array.from([0, 1, 1, 0, 1, 0, 0, 1]), [8, 1] as unknown as Shape);
  // 256 × 300 values: a batch large enough to be copied into the engine for its step.
  const xs = [0, 1, 2].map((i) => new Tensor(randomArray(256 * 300, 20 + i, 0, 1), [256, 300] as unknown as Shape));
  const y256 = new Tensor(Float32Array.from({ length: 256 }, (_, i) => i % 2), [256, 1] as unknown as Shape);
  const run = async (residentOutputs: boolean) => {
    setBackend('cpu', { residentOutputs });
    const m = build();
    await m.predict(x);
    m.setWeights(build().getWeights().map((w, i) => new Tensor(randomArray(w.size, 10 + i, -0.1, 0.1), w.shape)));
    for (let i = 0; i < 3; i++) await m.trainOnBatch(x, y);
    await m.trainOnBatch(xs[0], y256);
    // Each step's batch must not take a region of its own (the step's arena holds its copy).
    const bytes = residentBytes();
    for (const xb of xs) await m.trainOnBatch(xb, y256);
    const grew = residentBytes() - bytes;
    const out = (await m.predict(x)).values.slice();
    return { m, out, grew, weights: m.getWeights().map((w) => w.values) };
  };
  const host = await run(false);
  const held = await run(true);
  const kernel = held.m.params()[0];
  assert.ok(!resident(weightValues(host.m.params()[0])), 'residentOutputs: false held the kernel');
  assert.ok(resident(weightValues(kernel)) && resident(kernel.grad), 'the Dense kernel or its gradient is not held');
  assert.is(held.grew, 0, 'training on new batches took new regions');
  held.weights.forEach((w, i) => assertIdentical(w, host.weights[i], `weight ${i} after 7 steps`));
  assertIdentical(held.out, host.out, 'predictions after training');
});

test.run();
