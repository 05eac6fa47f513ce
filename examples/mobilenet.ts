// A MobileNet-style network (depthwise-separable blocks, batch normalization, ReLU(6), global
// average pooling) trained on the built-in synthetic cats-vs-dogs images.
//
//   npm run example:mobilenet                       # 8 epochs on 2400 images at 64×64
//   npm run example:mobilenet -- --epochs 2 --count 600
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { imageDatasetFromDirectory } from '../src/data/index.js';
import { optimizers, setSeed } from '../src/index.js';
import { ensureBuiltInData } from './lib/built-in-data.js';
import { buildMobileNetModel } from './lib/mobilenet-model.js';

const { values: opts } = parseArgs({
  options: {
    data: { type: 'string' },
    'image-size': { type: 'string', default: '64' },
    epochs: { type: 'string', default: '8' },
    'batch-size': { type: 'string', default: '32' },
    count: { type: 'string', default: '2400' },
    seed: { type: 'string', default: '1' },
    cache: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log('Usage: npm run example:mobilenet -- [--data DIR] [--image-size N] [--epochs N] [--batch-size N] [--count N] [--seed N] [--cache DIR]');
  process.exit(0);
}
function int(name: keyof typeof opts): number {
  const v = Number(opts[name]);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`mobilenet: --${name} must be a positive integer, got '${String(opts[name])}'`);
    process.exit(2);
  }
  return v;
}
const size = int('image-size');
const seed = int('seed');
setSeed(seed);

const dataDir = opts.data ? resolve(opts.data) : await ensureBuiltInData({ count: int('count'), catFraction: 0.25, seed, cacheDir: opts.cache });
const [train, val] = await imageDatasetFromDirectory(dataDir, {
  imageSize: [size, size], batchSize: int('batch-size'), labelMode: 'binary', validationSplit: 0.2, subset: 'both', seed, rescale: 1 / 255,
});

// The network: examples/lib/mobilenet-model.ts (depthwise-separable blocks, BatchNormalization, ReLU(6), global average pooling).
const model = buildMobileNetModel(size, seed);
model.compile({ optimizer: new optimizers.Adam({ learningRate: 1e-3 }), loss: 'binaryCrossentropy', metrics: ['precision', 'recall', 'accuracy'] });
model.summary();

const started = performance.now();
await model.fit(train, { epochs: int('epochs'), validationData: val, classWeight: 'balanced', seed });
const result = await model.evaluate(val);
console.log(`Validation after ${((performance.now() - started) / 1000).toFixed(0)} s: ${Object.entries(result).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`);
