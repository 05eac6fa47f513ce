// Fine-tuning: loads a saved model (by default the one `npm run residual` saves), freezes every
// layer of it, puts a new head on its global-average-pooling output and trains only the head on
// data of a different class balance. Checks at the end that the base's weights did not move.
//
//   npm run residual && npm run fine-tune
//   npm run fine-tune -- --model DIR --from gap --epochs 3
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { imageDatasetFromDirectory } from '../src/data/index.js';
import { layers, loadModel, Model, model, optimizers, setSeed } from '../src/index.js';
import { ensureBuiltInData } from './lib/built-in-data.js';

const { values: opts } = parseArgs({
  options: {
    model: { type: 'string', default: join(import.meta.dirname, 'out', 'residual-model') },
    from: { type: 'string', default: 'gap' },
    epochs: { type: 'string', default: '3' },
    count: { type: 'string', default: '600' },
    seed: { type: 'string', default: '2' },
    cache: { type: 'string' },
  },
});
const int = (name: keyof typeof opts): number => {
  const v = Number(opts[name]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`fine-tune: --${name} must be a positive integer, got '${opts[name]}'`);
  return v;
};
if (!existsSync(join(opts.model!, 'model.json'))) {
  console.error(`fine-tune: no saved model in ${opts.model}; run \`npm run residual\` first (or pass --model DIR)`);
  process.exit(2);
}
setSeed(int('seed'));

const base = await loadModel(opts.model!);
if (!(base instanceof Model)) throw new Error(`fine-tune: ${opts.model} holds a Sequential model; this example continues a functional graph`);
for (const layer of base.layers) layer.trainable = false;
const features = base.getLayer(opts.from!).output;
const hidden = new layers.Dense({ units: 16, activation: 'relu', name: 'head_dense' }).apply(features);
const out = new layers.Dense({ units: 1, activation: 'sigmoid', name: 'head_out' }).apply(hidden);
const tuned = model({ inputs: base.inputs, outputs: out, name: 'fine_tuned' });
tuned.compile({ optimizer: new optimizers.Adam({ learningRate: 1e-2 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
tuned.summary();

const [size] = base.inputShape;
// New data: another seed and a quarter cats, as a task the base was not trained on.
const dir = await ensureBuiltInData({ count: int('count'), catFraction: 0.25, seed: int('seed'), cacheDir: opts.cache });
const [train, val] = await imageDatasetFromDirectory(dir, {
  imageSize: [size, size], batchSize: 32, labelMode: 'binary', validationSplit: 0.2, subset: 'both', seed: int('seed'), rescale: 1 / 255, cache: true,
});
const frozen = base.getWeights();
const history = await tuned.fit(train, { epochs: int('epochs'), validationData: val, classWeight: 'balanced', diagnose: false });
const moved = base.getWeights().filter((w, i) => w.values.some((v, k) => v !== frozen[i].values[k])).length;
console.log(`Base weights changed: ${moved} of ${frozen.length} (frozen: expected 0)`);
console.log(`val_accuracy by epoch: ${history.history.val_accuracy.map((v) => v.toFixed(3)).join(', ')}`);
if (moved !== 0) process.exit(1);
