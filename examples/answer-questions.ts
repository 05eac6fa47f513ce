// Answers the Keras user's three questions with measurements on the built-in data (25 % cats):
//   1. why does precision fall every epoch? (their setup, as written)
//   2. what fixes it? (learning rate / optimizer, class weights, streaming metrics, a validation
//      split that holds both classes)
//   3. would bigger images help? (64 vs 100 vs 200 px: time per epoch and accuracy)
//
//   npm run answers                 # all three, writes examples/out/answers.md
//   npm run answers -- --only 1,3   # some of them
//   npm run answers -- --quick      # fewer images and epochs, to check that it runs
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadImagesFromDirectory, trainTestSplit } from '../src/data/index.js';
import { metrics, optimizers, setSeed, type Tensor } from '../src/index.js';
import type { Optimizer } from '../src/train/optimizers.js';
import { ensureBuiltInData } from './lib/built-in-data.js';
import { buildUserModel } from './lib/user-model.js';

const { values: opts } = parseArgs({
  options: {
    only: { type: 'string', default: '1,2,3' },
    quick: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    // Fraction of cats (class 0). 0.25 makes the positive class (dogs) the 75 % majority; 0.75 makes it the 25 % minority.
    'cat-fraction': { type: 'string', default: '0.25' },
    out: { type: 'string', default: join(import.meta.dirname, 'out') },
    sizes: { type: 'string', default: '64,100,200' },
  },
});
const quick = opts.quick;
const seed = Number(opts.seed);
const only = new Set(String(opts.only).split(',').map((s) => Number(s.trim())));
const count = quick ? 400 : 2000;
const epochs = quick ? 2 : 10;
const sizeEpochs = quick ? 1 : epochs;

const catFraction = Number(opts['cat-fraction']);
const out: string[] = [`# Measured answers (${new Date().toISOString().slice(0, 10)}, ${count} built-in images, ${Math.round(catFraction * 100)} % cats, seed ${seed})`, ''];
const log = (line = ''): void => {
  console.log(line);
  out.push(line);
};

interface Run {
  label: string;
  optimizer: () => Optimizer;
  classWeight?: 'balanced';
  epochs?: number;
}

const dataDir = await ensureBuiltInData({ count, catFraction, seed });

/** Loads the set at `size` px, in folder order (all cats, then all dogs), as a user's arrays would be. */
async function load(size: number): Promise<{ x: Tensor; y: Tensor; classNames: string[] }> {
  const data = await loadImagesFromDirectory(dataDir, { imageSize: [size, size], labelMode: 'binary', rescale: 1 / 255, progress: false });
  return { x: data.x, y: data.y, classNames: data.classNames };
}

const fmt = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(3));

async function train(run: Run, xTrain: Tensor, yTrain: Tensor, xVal: Tensor, yVal: Tensor, size: number) {
  setSeed(seed);
  const model = buildUserModel(size);
  model.compile({
    optimizer: run.optimizer(),
    loss: 'binaryCrossentropy',
    metrics: ['precision', 'recall', 'accuracy', new metrics.BatchAveragedPrecision({ name: 'batch_precision' })],
  });
  const t0 = performance.now();
  const history = await model.fit(xTrain, yTrain, { epochs: run.epochs ?? epochs, batchSize: 32, validationData: [xVal, yVal], classWeight: run.classWeight, seed, verbose: 0 });
  const seconds = (performance.now() - t0) / 1000;
  return { history: history.history, seconds, epochsRun: history.epoch.length };
}

if (only.has(1) || only.has(2)) {
  const { x, y, classNames } = await load(64);
  const split = trainTestSplit(x, y, { testSize: 0.2, stratify: true, seed });
  log(`Classes: 0 = ${classNames[0]} (${Math.round(catFraction * 100)} %), 1 = ${classNames[1]} (${Math.round((1 - catFraction) * 100)} %). Precision and recall below are for class 1 (${classNames[1]}), as the user's metric measured it.`);
  log(`Images resized to 64×64; stratified 80/20 split: ${split.yTrain.shape[0]} training, ${split.yTest.shape[0]} validation images.`);
  log();

  if (only.has(1)) {
    log('## 1. The user\'s setup as written: SGD, learning rate 1e-4, no class weights');
    log();
    const r = await train({ label: 'sgd 1e-4', optimizer: () => new optimizers.SGD({ learningRate: 1e-4 }) }, split.xTrain, split.yTrain, split.xTest, split.yTest, 64);
    const h = r.history;
    log('| epoch | loss | batch-averaged precision (their metric) | streaming precision | recall | accuracy | val precision | val recall | val accuracy |');
    log('|---|---|---|---|---|---|---|---|---|');
    for (let e = 0; e < r.epochsRun; e++) {
      log(`| ${e + 1} | ${fmt(h.loss[e])} | ${fmt(h.batch_precision[e])} | ${fmt(h.precision[e])} | ${fmt(h.recall[e])} | ${fmt(h.accuracy[e])} | ${fmt(h.val_precision[e])} | ${fmt(h.val_recall[e])} | ${fmt(h.val_accuracy[e])} |`);
    }
    log();
  }

  if (only.has(2)) {
    log('## 2. The fixes, one at a time and together (final epoch, validation set)');
    log();
    const runs: Run[] = [
      { label: 'as written: SGD lr 1e-4', optimizer: () => new optimizers.SGD({ learningRate: 1e-4 }) },
      { label: 'SGD lr 1e-2 + momentum 0.9', optimizer: () => new optimizers.SGD({ learningRate: 1e-2, momentum: 0.9 }) },
      { label: 'Adam lr 1e-3', optimizer: () => new optimizers.Adam({ learningRate: 1e-3 }) },
      { label: "SGD lr 1e-4 + classWeight 'balanced'", optimizer: () => new optimizers.SGD({ learningRate: 1e-4 }), classWeight: 'balanced' },
      { label: "Adam lr 1e-3 + classWeight 'balanced'", optimizer: () => new optimizers.Adam({ learningRate: 1e-3 }), classWeight: 'balanced' },
    ];
    log('| setup | loss | batch-averaged precision | streaming precision | recall | val precision | val recall | val accuracy | time |');
    log('|---|---|---|---|---|---|---|---|---|');
    for (const run of runs) {
      const r = await train(run, split.xTrain, split.yTrain, split.xTest, split.yTest, 64);
      const h = r.history;
      const e = r.epochsRun - 1;
      log(`| ${run.label} | ${fmt(h.loss[e])} | ${fmt(h.batch_precision[e])} | ${fmt(h.precision[e])} | ${fmt(h.recall[e])} | ${fmt(h.val_precision[e])} | ${fmt(h.val_recall[e])} | ${fmt(h.val_accuracy[e])} | ${r.seconds.toFixed(0)} s |`);
    }
    log();
    log("### The validation split trap: Keras' `validationSplit` takes the last 20 % before shuffling");
    log();
    // Arrays in folder order (cats then dogs): the last 20 % holds dogs only.
    const n = y.shape[0]!;
    const tail = y.values.slice(Math.floor(n * 0.8));
    const dogs = tail.reduce((a, v) => a + v, 0);
    log(`With the images in folder order, the last 20 % (${tail.length} images) holds ${dogs} dogs and ${tail.length - dogs} cats.`);
    setSeed(seed);
    const model = buildUserModel(64);
    model.compile({ optimizer: new optimizers.Adam({ learningRate: 1e-3 }), loss: 'binaryCrossentropy', metrics: ['precision', 'recall', 'accuracy'] });
    const hist = await model.fit(x, y, { epochs, batchSize: 32, validationSplit: 0.2, seed, verbose: 0 });
    const last = hist.epoch.length - 1;
    log(`Trained with \`validationSplit: 0.2\` on those arrays (Adam 1e-3): val_precision ${fmt(hist.history.val_precision[last])}, val_recall ${fmt(hist.history.val_recall[last])}, val_accuracy ${fmt(hist.history.val_accuracy[last])} — and this validation set cannot measure anything about cats: a model that calls everything a dog scores precision 1.000 on it. tscnn warns when this happens; shuffle first or use \`trainTestSplit\` (stratified).`);
    log();
  }
}

if (only.has(3)) {
  log(`## 3. Image size: 64 vs 100 vs 200 (Adam lr 1e-3, ${sizeEpochs} epochs, same split)`);
  log();
  log('| image size | parameters | seconds per epoch | val accuracy | val precision | val recall |');
  log('|---|---|---|---|---|---|');
  for (const size of String(opts.sizes).split(',').map(Number)) {
    const { x, y } = await load(size);
    const split = trainTestSplit(x, y, { testSize: 0.2, stratify: true, seed });
    const r = await train({ label: `${size}`, optimizer: () => new optimizers.Adam({ learningRate: 1e-3 }), epochs: sizeEpochs }, split.xTrain, split.yTrain, split.xTest, split.yTest, size);
    const e = r.epochsRun - 1;
    const params = buildUserModel(size).countParams();
    log(`| ${size}×${size} | ${params.toLocaleString('en-US')} | ${(r.seconds / r.epochsRun).toFixed(1)} | ${fmt(r.history.val_accuracy[e])} | ${fmt(r.history.val_precision[e])} | ${fmt(r.history.val_recall[e])} |`);
  }
  log();
}

mkdirSync(opts.out as string, { recursive: true });
const path = join(opts.out as string, 'answers.md');
writeFileSync(path, out.join('\n') + '\n');
console.log(`\nWritten to ${path}`);
