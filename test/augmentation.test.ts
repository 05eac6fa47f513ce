import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Random } from '../src/util/random.js';
import { tensor, type Tensor } from '../src/tensor.js';
import { RandomFlip } from '../src/layers/random-flip.js';
import { RandomTranslation } from '../src/layers/random-translation.js';
import { Dropout } from '../src/layers/dropout.js';
import { Dense, Flatten } from '../src/layers/index.js';
import { Sequential } from '../src/model/sequential.js';
import { loadModel, toMemory } from '../src/io/index.js';

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + v * b[i], 0);
const randomTensor = (shape: number[], seed: number): Tensor => {
  const r = new Random(seed);
  return tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.uniform(-1, 1)), shape);
};

test('RandomFlip horizontal [8,1,3,1]: each image is itself or its mirror, both occur', () => {
  const layer = new RandomFlip('horizontal', { seed: 3 });
  layer.build([1, 3, 1]);
  const x = tensor(Array.from({ length: 8 }, () => [[[1], [2], [3]]]).flat(3), [8, 1, 3, 1]);
  const y = layer.forward(x, { training: true, rng: new Random(0) });
  const rows = Array.from({ length: 8 }, (_, n) => Array.from(y.values.slice(n * 3, n * 3 + 3)).join());
  assert.ok(rows.every((r) => r === '1,2,3' || r === '3,2,1'), rows.join(' | '));
  assert.ok(rows.includes('1,2,3') && rows.includes('3,2,1'), 'both outcomes over 8 draws');
});

test('RandomFlip is the identity in inference', () => {
  const layer = new RandomFlip('horizontal_and_vertical');
  layer.build([4, 5, 2]);
  const x = randomTensor([3, 4, 5, 2], 1);
  assert.equal(Array.from(layer.forward(x, { training: false, rng: new Random(0) }).values), Array.from(x.values));
});

test('RandomFlip backward is the adjoint of its forward', () => {
  const layer = new RandomFlip('horizontal_and_vertical', { seed: 5 });
  layer.build([4, 5, 2]);
  const x = randomTensor([6, 4, 5, 2], 2);
  const dy = randomTensor([6, 4, 5, 2], 3);
  const y = layer.forward(x, { training: true, rng: new Random(0) });
  const dx = layer.backward(dy, true)!;
  assert.ok(Math.abs(dot(y.values, dy.values) - dot(x.values, dx.values)) < 1e-4);
});

test('RandomTranslation: a whole-pixel shift moves pixels with the chosen fill; a half-pixel shift interpolates; adjoint backward', () => {
  for (const fillMode of ['constant', 'nearest', 'reflect', 'wrap'] as const) {
    const layer = new RandomTranslation({ heightFactor: [0.2, 0.2], widthFactor: [0.2, 0.2], fillMode, seed: 7 });
    layer.build([5, 5, 1]);
    const x = tensor(Array.from({ length: 25 }, (_, i) => i + 1), [1, 5, 5, 1]);
    const y = layer.forward(x, { training: true, rng: new Random(0) });
    // Both shifts are exactly +1 pixel: output (i, j) holds input (i − 1, j − 1).
    for (let i = 1; i < 5; i++) {
      for (let j = 1; j < 5; j++) assert.is(y.values[i * 5 + j], (i - 1) * 5 + j, `${fillMode}: (${i}, ${j})`);
    }
    if (fillMode === 'constant') assert.equal(Array.from(y.values.slice(0, 5)), [0, 0, 0, 0, 0], 'row 0 filled');
    const dy = randomTensor([1, 5, 5, 1], 9);
    const dx = layer.backward(dy, true)!;
    assert.ok(Math.abs(dot(y.values, dy.values) - dot(x.values, dx.values)) < 1e-3, `${fillMode} adjoint`);
  }
  // Keras interpolates: a shift of half a pixel to the right averages each pixel with its left neighbour.
  const half = new RandomTranslation({ heightFactor: 0, widthFactor: [0.125, 0.125], fillMode: 'constant', seed: 1 });
  const row = tensor([2, 4, 8, 16], [1, 1, 4, 1]);
  const y = half.forward(row, { training: true, rng: new Random(0) });
  assert.equal(Array.from(y.values), [1, 3, 6, 12]);
});

test('RandomTranslation rejects factors outside [-1, 1]', () => {
  assert.throws(() => new RandomTranslation({ heightFactor: 1.5, widthFactor: 0 }), /RandomTranslation 'random_translation(_\d+)?': heightFactor must be a number or \[lower, upper\] with lower ≤ upper in \[-1, 1\], got 1.5/);
});

test('RandomFlip and RandomTranslation save and load under Keras class names with their options', async () => {
  const m = new Sequential();
  m.add(new RandomFlip('vertical', { seed: 5, inputShape: [4, 4, 1], name: 'flip' }));
  m.add(new RandomTranslation({ heightFactor: [-0.1, 0.2], widthFactor: 0.3, fillMode: 'wrap', interpolation: 'nearest', fillValue: 0.5, name: 'shift' }));
  m.add(new Flatten());
  m.add(new Dense({ units: 1 }));
  const { modelJSON, weights } = toMemory(m);
  const entries = (modelJSON.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers;
  assert.equal(entries.slice(0, 2).map((e) => [e.class_name, e.config.mode ?? e.config.fill_mode]), [['RandomFlip', 'vertical'], ['RandomTranslation', 'wrap']]);
  assert.equal([entries[1].config.height_factor, entries[1].config.width_factor], [[-0.1, 0.2], [-0.3, 0.3]]);
  const loaded = await loadModel({ modelJSON, weights });
  loaded.layers.slice(0, 2).forEach((l, i) => assert.equal(l.getConfig(), m.layers[i].getConfig(), l.className));
});

test('random layers reject unknown options and a non-finite seed, naming the layer and the value', () => {
  assert.throws(() => new RandomFlip('horizontal', { seeed: 1 } as never), /RandomFlip: unknown option 'seeed'; known: seed, name, inputShape, trainable/);
  assert.throws(() => new RandomTranslation({ heightFactor: 0.1, widthFactor: 0.1, fill: 'nearest' } as never), /RandomTranslation: unknown option 'fill'; known: heightFactor, widthFactor, fillMode, interpolation, fillValue, seed/);
  assert.throws(() => new Dropout({ rate: 0.5, seed: NaN, name: 'drop' }), /Dropout 'drop': seed must be a finite number, got null/);
  assert.throws(() => new RandomFlip('vertical', { seed: '7' as never, name: 'flip' }), /RandomFlip 'flip': seed must be a finite number, got "7"/);
});

test('random layers: a seed repeats the draws; without one the model generator is used; backward without a training forward passes dy through', () => {
  const x = randomTensor([4, 3, 3, 2], 1);
  const run = (layer: RandomFlip | RandomTranslation | Dropout, rng: Random) => Array.from(layer.forward(x, { training: true, rng }).values);
  for (const make of [
    (seed?: number) => new RandomFlip('horizontal_and_vertical', { seed }),
    (seed?: number) => new RandomTranslation({ heightFactor: 0.4, widthFactor: 0.4, seed }),
    (seed?: number) => new Dropout({ rate: 0.5, seed }),
  ]) {
    assert.equal(run(make(11), new Random(1)), run(make(11), new Random(2)), 'seeded: model generator ignored');
    assert.equal(run(make(), new Random(5)), run(make(), new Random(5)), 'unseeded: model generator');
    assert.not.equal(run(make(), new Random(5)), run(make(), new Random(6)), 'unseeded: depends on the model generator');
    const layer = make(3);
    layer.forward(x, { training: false, rng: new Random(0) });
    assert.is(layer.backward(x, true), x);
  }
});

test.run();
