// A small residual network, built with the functional API (input, layer.apply, model), trained on
// the built-in cats-vs-dogs data and saved in the TF.js LayersModel format (examples/fine-tune.ts
// loads it).
//
//   npm run residual                      # 1,200 images at 32×32, 10 epochs
//   npm run residual -- --epochs 8 --save examples/out/residual-model
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { imageDatasetFromDirectory } from '../src/data/index.js';
import { optimizers, setSeed } from '../src/index.js';
import { ensureBuiltInData } from './lib/built-in-data.js';
import { buildResidualModel } from './lib/residual-model.js';

const { values: opts } = parseArgs({
  options: {
    'image-size': { type: 'string', default: '32' },
    epochs: { type: 'string', default: '10' },
    'batch-size': { type: 'string', default: '32' },
    count: { type: 'string', default: '1200' },
    seed: { type: 'string', default: '1' },
    lr: { type: 'string', default: '3e-3' },
    cache: { type: 'string' },
    save: { type: 'string', default: join(import.meta.dirname, 'out', 'residual-model') },
  },
});
const int = (name: keyof typeof opts): number => {
  const v = Number(opts[name]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`residual: --${name} must be a positive integer, got '${opts[name]}'`);
  return v;
};
const size = int('image-size');
const seed = int('seed');
setSeed(seed);

const dir = await ensureBuiltInData({ count: int('count'), catFraction: 0.5, seed, cacheDir: opts.cache });
const [train, val] = await imageDatasetFromDirectory(dir, {
  imageSize: [size, size], batchSize: int('batch-size'), labelMode: 'binary', validationSplit: 0.2, subset: 'both', seed, rescale: 1 / 255, cache: true,
});

// The network: examples/lib/residual-model.ts (a stem, two residual blocks, global average pooling).
const net = buildResidualModel(size);

net.compile({ optimizer: new optimizers.Adam({ learningRate: Number(opts.lr) }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
net.summary();
console.log(`Fused runs in training: ${net.fusionPlan('training').filter((u) => u.op).map((u) => `${u.layers.map((l) => l.name).join(' → ')} (${u.op})`).join('; ')}`);
const t0 = performance.now();
const history = await net.fit(train, { epochs: int('epochs'), validationData: val, seed });
console.log(`Trained ${int('epochs')} epochs in ${((performance.now() - t0) / 1000).toFixed(1)} s; val_accuracy ${history.history.val_accuracy.map((v) => v.toFixed(3)).join(', ')}`);
if (opts.save !== 'none') {
  await net.save(opts.save!);
  console.log(`Saved to ${opts.save} (load it with loadModel, or tf.loadLayersModel in TF.js; npm run fine-tune uses it)`);
}
