// The output arena (src/backend/arena.ts): buffers reused from one step to the next, fresh
// arrays outside a step, and models whose results neither change nor alias when the next step
// reuses the buffers (training bit for bit equal to a step run outside any arena).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inArena, OutputArena, outputF32, outputI32 } from '../src/backend/arena.js';
import { setBackend } from '../src/backend/index.js';
import { getLoss } from '../src/train/losses.js';
import { SGD } from '../src/train/optimizers.js';
import { Random } from '../src/util/random.js';
import type { Sequential } from '../src/model/sequential.js';
import { Tensor, type Shape } from '../src/tensor.js';
import { buildUserModel } from '../examples/lib/user-model.js';
import { assertIdentical, assertSameWeights, randomArray } from './helpers.js';

test.before(() => void setBackend('cpu'));

const BIG = 1 << 15;

test('outside a run: fresh zeroed arrays, never shared', () => {
  assert.is(inArena(), false);
  const a = outputF32(BIG);
  const b = outputF32(BIG);
  assert.ok(a.buffer !== b.buffer);
  assert.ok(a.every((v) => v === 0));
});

test('a run hands out distinct buffers; the next run reuses them by size and kind; zero fills', () => {
  const arena = new OutputArena();
  const first = arena.run(() => [outputF32(BIG), outputF32(BIG), outputI32(BIG), outputF32(2 * BIG)]);
  assert.is(new Set(first.map((a) => a.buffer)).size, 4, 'distinct within a run');
  first[0].fill(7);
  first[1].fill(8);
  const second = arena.run(() => [outputF32(BIG), outputF32(BIG, true), outputI32(BIG), outputF32(2 * BIG)]);
  assert.ok(second.every((a, i) => first.some((f) => f.buffer === a.buffer) && a.constructor === first[i].constructor), 'reused');
  assert.ok(second[1].every((v) => v === 0), 'zero: true fills with zeros');
  assert.is(second[0][0] === 7 || second[0][0] === 8, true, 'without zero the previous values remain (callers overwrite)');
  assert.is(arena.bytes(), 5 * BIG * 4);
});

test('small arrays bypass the arena; buffers a run does not reuse are released', () => {
  const arena = new OutputArena();
  arena.run(() => {
    const small = outputF32(100);
    assert.is(small.length, 100);
    outputF32(BIG);
    outputF32(3 * BIG);
  });
  assert.is(arena.bytes(), 4 * BIG * 4, 'the small array is not held');
  arena.run(() => void outputF32(BIG));
  assert.is(arena.bytes(), 4 * BIG * 4, 'the BIG buffer is reused; the 3·BIG one is free until the next step starts');
  arena.run(() => undefined);
  assert.is(arena.bytes(), BIG * 4, 'sizes the last step did not ask for are dropped');
  arena.run(() => undefined);
  assert.is(arena.bytes(), 0, 'then the rest');
  outputF32(BIG);
  arena.clear();
  assert.is(arena.bytes(), 0);
});

test('the active arena is restored after a throw and after a nested run', () => {
  const outer = new OutputArena();
  const inner = new OutputArena();
  outer.run(() => {
    inner.run(() => assert.ok(inArena()));
    assert.ok(inArena(), 'outer still active after the inner run');
    assert.throws(() => inner.run(() => {
      throw new Error('boom');
    }), /boom/);
    assert.ok(inArena());
  });
  assert.is(inArena(), false);
});

function model(seed: number): Sequential {
  const m = buildUserModel(24, { dropoutRate: 0 });
  m.compile({ optimizer: new SGD({ learningRate: 0.01, momentum: 0.9 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  // Random kernels and biases (the initial biases are zero); batch-norm weights as initialized.
  const names = m.params().map((p) => p.name.split('/').pop());
  m.setWeights(m.getWeights().map((w, i) => (names[i] === 'kernel' || names[i] === 'bias' ? new Tensor(randomArray(w.size, seed + i, -0.3, 0.3), w.shape) : w)));
  return m;
}

const images = (n: number, seed: number) => new Tensor(randomArray(n * 24 * 24 * 3, seed, 0, 1), [n, 24, 24, 3] as unknown as Shape);

test('training steps in the arena = the same steps outside any arena, bit for bit (activations large enough to use it)', async () => {
  const a = model(1);
  const b = model(1);
  const x = images(8, 10);
  const y = new Tensor(Float32Array.from({ length: 8 }, (_, i) => i % 2), [8, 1]);
  const optimizer = new SGD({ learningRate: 0.01, momentum: 0.9 });
  for (let step = 0; step < 3; step++) {
    const logs = await a.trainOnBatch(x, y);
    const params = b.params().filter((p) => p.trainable);
    for (const p of params) p.grad.fill(0);
    const rng = new Random(1);
    const yPred = b.layers.reduce((h, l) => l.forward(h, { training: true, rng }), x);
    const r = getLoss('binaryCrossentropy').compute(y.values, yPred.values, 8, 1);
    let dy: Tensor | null = new Tensor(r.dyPred, yPred.shape);
    for (let i = b.layers.length - 1; i >= 0 && dy; i--) dy = b.layers[i].backward(dy, i > 0);
    optimizer.apply(params);
    assert.is(logs.loss, r.loss, `step ${step} loss`);
    assertSameWeights(a.getWeights(), b.getWeights(), `step ${step} weights`);
  }
  assert.ok((a as unknown as { trainArena: OutputArena }).trainArena.bytes() > 8 * 24 * 24 * 16 * 4, 'the steps ran in the arena');
});

test('tensors returned by predict and evaluate keep their values through later calls', async () => {
  const m = model(2);
  const x1 = images(40, 20);
  const x2 = images(40, 21);
  const p1 = await m.predict(x1);
  const copy = p1.values.slice();
  const p2 = await m.predict(x2, { batchSize: 16 });
  assertIdentical(p1.values, copy, 'first predict unchanged');
  assert.ok(p2.values.some((v, i) => v !== copy[i]), 'different inputs give different outputs');
  assertIdentical((await m.predict(x1, { batchSize: 7 })).values, copy, 'same input, other batch size: same outputs');
  const y = new Tensor(Float32Array.from({ length: 40 }, (_, i) => i % 2), [40, 1]);
  const e1 = await m.evaluate(x1, y);
  await m.fit(x2, y, { epochs: 1, batchSize: 8, verbose: 0 });
  const p3 = await m.predict(x1);
  assertIdentical(p1.values, copy, 'first predict unchanged after fit');
  assert.ok(p3.values.some((v, i) => v !== copy[i]), 'fit changed the model');
  assert.ok(Number.isFinite(e1.loss));
});

test.run();
