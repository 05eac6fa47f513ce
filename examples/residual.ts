// A small residual network, built with the functional API (input, layer.apply, model), trained on
// the built-in cats-vs-dogs data and saved in the TF.js LayersModel format (examples/fine-tune.ts
// loads it).
//
//   npm run residual                      # 1,200 images at 32×32, 10 epochs
//   npm run residual -- --epochs 8 --save examples/out/residual-model
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { imageDatasetFromDirectory } from '../src/data/index.js';
import { input, layers, model, optimizers, setSeed, type SymbolicTensor } from '../src/index.js';
import { ensureBuiltInData } from './lib/built-in-data.js';

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

/** Two 3×3 convolutions with a shortcut around them: relu(conv(relu(conv(x))) + shortcut(x)). */
function residualBlock(x: SymbolicTensor, filters: number, name: string): SymbolicTensor {
  const h = new layers.Conv2D({ filters, kernelSize: 3, padding: 'same', activation: 'relu', name: `${name}_conv1` }).apply(x);
  const f = new layers.Conv2D({ filters, kernelSize: 3, padding: 'same', name: `${name}_conv2` }).apply(h);
  const channels = x.sampleShape[x.sampleShape.length - 1];
  const shortcut = channels === filters ? x : new layers.Conv2D({ filters, kernelSize: 1, name: `${name}_shortcut` }).apply(x);
  const sum = new layers.Add({ name: `${name}_add` }).apply([f, shortcut]);
  return new layers.Activation({ activation: 'relu', name: `${name}_relu` }).apply(sum);
}

const x = input({ shape: [size, size, 3], name: 'image' });
// Conv2D → BatchNormalization → relu → MaxPooling2D: a linear run, fused as in Sequential.
let h = new layers.Conv2D({ filters: 16, kernelSize: 3, padding: 'same', name: 'stem_conv' }).apply(x);
h = new layers.BatchNormalization({ name: 'stem_bn' }).apply(h);
h = new layers.Activation({ activation: 'relu', name: 'stem_relu' }).apply(h);
h = new layers.MaxPooling2D({ poolSize: 2, name: 'stem_pool' }).apply(h);
h = residualBlock(h, 16, 'block1');
h = new layers.MaxPooling2D({ poolSize: 2, name: 'pool1' }).apply(h);
h = residualBlock(h, 32, 'block2');
h = new layers.GlobalAveragePooling2D({ name: 'gap' }).apply(h);
const y = new layers.Dense({ units: 1, activation: 'sigmoid', name: 'classifier' }).apply(h);
const net = model({ inputs: x, outputs: y, name: 'residual' });

net.compile({ optimizer: new optimizers.Adam({ learningRate: Number(opts.lr) }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
net.summary();
console.log(`Fused runs in training: ${net.fusionPlan('training').filter((u) => u.op).map((u) => `${u.layers.map((l) => l.name).join(' → ')} (${u.op})`).join('; ')}`);
const t0 = performance.now();
const history = await net.fit(train, { epochs: int('epochs'), validationData: val, seed, diagnose: false });
console.log(`Trained ${int('epochs')} epochs in ${((performance.now() - t0) / 1000).toFixed(1)} s; val_accuracy ${history.history.val_accuracy.map((v) => v.toFixed(3)).join(', ')}`);
if (opts.save !== 'none') {
  await net.save(opts.save!);
  console.log(`Saved to ${opts.save} (load it with loadModel, or tf.loadLayersModel in TF.js; npm run fine-tune uses it)`);
}
