// Trains the Keras user's cats-vs-dogs CNN with tscnn and reports numbers you can trust:
// streaming precision/recall, a confusion matrix, training curves and a precision–recall curve.
//
//   npm run example                              # built-in synthetic data (generated once)
//   npm run example -- --data ~/photos/train     # your own folder: cats/ + dogs/, or cat.1.jpg …
//   npm run example -- --help
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { imageDatasetFromDirectory } from '../src/data/index.js';
import { formatDiagnostic, metrics, optimizers, setBackend, setSeed, getBackend, type Tensor } from '../src/index.js';
import { ensureBuiltInData } from './lib/built-in-data.js';
import { asciiChart, precisionRecallCurve, writeReport } from './lib/report.js';
import { buildUserModel } from './lib/user-model.js';

const HELP = `Usage: npm run example -- [options]
  --data DIR            your own images (sub-folders per class, or Kaggle's cat.1.jpg / dog.2.jpg)
  --image-size N        resize to N×N (default 64)
  --epochs N            (default 12)
  --batch-size N        (default 32)
  --optimizer sgd|adam  (default adam)
  --lr X                learning rate (default 1e-3 for adam, 1e-2 for sgd)
  --momentum X          SGD momentum (default 0.9)
  --class-weight balanced|none  (default none)
  --imbalance X         fraction of cats in the built-in data (default 0.25, as the user's set)
  --count N             images in the built-in data (default 2400)
  --backend cpu|reference|gpu   (default cpu)
  --gpu-mode auto|headlessgl|webasm   gpu.js mode with --backend gpu (default auto)
  --seed N              (default 1)
  --out DIR             report folder (default examples/out)
  --save DIR            where the trained model is saved, TF.js LayersModel format (default OUT/model; 'none' to skip)
  --cache DIR           where the built-in data is generated (default .cache/)
  --image-cache memory|FILE|none   keep the decoded images after the first pass: in memory, or in
                        FILE (reused by later runs); the first pass is timed and printed (default none)
  --decoder auto|sharp|js   image decoder (default auto: sharp when installed)
  --workers N           decoding threads (default: the number of cores)`;

const { values: opts } = parseArgs({
  options: {
    data: { type: 'string' },
    'image-size': { type: 'string', default: '64' },
    epochs: { type: 'string', default: '12' },
    'batch-size': { type: 'string', default: '32' },
    optimizer: { type: 'string', default: 'adam' },
    lr: { type: 'string' },
    momentum: { type: 'string', default: '0.9' },
    'class-weight': { type: 'string', default: 'none' },
    imbalance: { type: 'string', default: '0.25' },
    count: { type: 'string', default: '2400' },
    backend: { type: 'string', default: 'cpu' },
    'gpu-mode': { type: 'string', default: 'auto' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: join(import.meta.dirname, 'out') },
    save: { type: 'string' },
    cache: { type: 'string' },
    'image-cache': { type: 'string', default: 'none' },
    decoder: { type: 'string', default: 'auto' },
    workers: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (opts.help) {
  console.log(HELP);
  process.exit(0);
}

function num(name: keyof typeof opts, integer = false): number {
  const raw = opts[name] as string;
  const v = Number(raw);
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    console.error(`cats-vs-dogs: --${name} must be ${integer ? 'an integer' : 'a number'}, got '${raw}'\n\n${HELP}`);
    process.exit(2);
  }
  return v;
}

const imageSize = num('image-size', true);
const epochs = num('epochs', true);
const batchSize = num('batch-size', true);
const seed = num('seed', true);
const optimizerName = opts.optimizer as string;
if (optimizerName !== 'sgd' && optimizerName !== 'adam') {
  console.error(`cats-vs-dogs: --optimizer must be sgd or adam, got '${optimizerName}'`);
  process.exit(2);
}
const lr = opts.lr !== undefined ? num('lr') : optimizerName === 'adam' ? 1e-3 : 1e-2;
const classWeight = opts['class-weight'] === 'balanced' ? 'balanced' : opts['class-weight'] === 'none' ? undefined : null;
if (classWeight === null) {
  console.error(`cats-vs-dogs: --class-weight must be balanced or none, got '${opts['class-weight']}'`);
  process.exit(2);
}

setSeed(seed);
if (opts.backend === 'gpu') setBackend('gpu', { mode: opts['gpu-mode'] as 'auto' | 'headlessgl' | 'webasm' });
else setBackend(opts.backend as 'cpu' | 'reference');
console.log(`Backend: ${getBackend().name}`);

const started = performance.now();
const dataDir = opts.data
  ? resolve(opts.data)
  : await ensureBuiltInData({ count: num('count', true), catFraction: num('imbalance'), seed, cacheDir: opts.cache });

const imageCacheOpt = opts['image-cache'] as string;
const imageCache = imageCacheOpt === 'none' ? false : imageCacheOpt === 'memory' ? true : resolve(imageCacheOpt);
const decoder = opts.decoder as 'auto' | 'sharp' | 'js';
if (!['auto', 'sharp', 'js'].includes(decoder)) {
  console.error(`cats-vs-dogs: --decoder must be auto, sharp or js, got '${decoder}'`);
  process.exit(2);
}
const [train, val] = await imageDatasetFromDirectory(dataDir, {
  cache: imageCache,
  decoder,
  ...(opts.workers !== undefined ? { workers: num('workers', true) } : {}),
  imageSize: [imageSize, imageSize],
  batchSize,
  labelMode: 'binary',
  validationSplit: 0.2,
  subset: 'both',
  seed,
  rescale: 1 / 255,
});
console.log(`Classes: ${train.classNames.map((c, i) => `${i} = ${c}`).join(', ')} (precision and recall are for class 1, '${train.classNames[1]}')`);
console.log(`Training: ${train.size} images ${JSON.stringify(train.classCounts)}; validation: ${val.size} images ${JSON.stringify(val.classCounts)}`);

if (imageCache !== false) {
  // One timed pass over both subsets: it measures the decoding throughput and fills the cache,
  // so every epoch of fit reads cached pixels.
  const t = performance.now();
  for (const ds of [train, val]) for await (const _ of ds.batches({ epoch: 0 })) void _;
  const seconds = (performance.now() - t) / 1000;
  const decoded = train.stats.imagesDecoded + val.stats.imagesDecoded;
  const cached = train.stats.imagesFromCache + val.stats.imagesFromCache;
  console.log(`Decoding: ${decoded} images decoded${cached ? `, ${cached} read from the cache` : ''} in ${seconds.toFixed(1)} s (${((decoded + cached) / seconds).toFixed(0)} images/s; cache ${imageCache === true ? 'in memory' : imageCache})`);
}

const model = buildUserModel(imageSize);
const optimizer = optimizerName === 'adam' ? new optimizers.Adam({ learningRate: lr }) : new optimizers.SGD({ learningRate: lr, momentum: num('momentum') });
model.compile({ optimizer, loss: 'binaryCrossentropy', metrics: ['precision', 'recall', 'accuracy'] });
model.summary();

const history = await model.fit(train, { epochs, validationData: val, classWeight, seed });
const trainSeconds = (performance.now() - started) / 1000;

// Final numbers on the validation set: predictions once, then every view of them.
const yTrue: number[] = [];
const scores: number[] = [];
for await (const batch of val.batches()) {
  const p: Tensor = await model.predict(batch.x, { batchSize });
  scores.push(...(await p.data()));
  yTrue.push(...(await batch.y.data()));
}
const threshold = 0.5;
const confusion = new metrics.ConfusionMatrix({ numClasses: 2, threshold });
confusion.update(Float32Array.from(yTrue), Float32Array.from(scores), yTrue.length, 1);
const matrix = confusion.matrix();
const [[tn, fp], [fn, tp]] = matrix;
const precision = tp + fp ? tp / (tp + fp) : 0;
const recall = tp + fn ? tp / (tp + fn) : 0;
const accuracy = (tp + tn) / Math.max(1, yTrue.length);

console.log(`\nConfusion matrix on the validation set (rows: true class, columns: predicted; threshold ${threshold})`);
console.log(confusion.toString());
console.log(`validation: accuracy ${accuracy.toFixed(4)}, precision ${precision.toFixed(4)}, recall ${recall.toFixed(4)}`);
console.log(`\nTraining doctor: ${history.diagnostics.length === 0 ? 'nothing wrong found' : `${history.diagnostics.length} finding(s)`}`);
for (const d of history.diagnostics) console.log(`  ${formatDiagnostic(d)}`);
const h = history.history;
console.log('\n' + asciiChart([{ name: 'loss', values: h.loss }, { name: 'val_loss', values: h.val_loss }], { title: 'Loss' }));
console.log('\n' + asciiChart([{ name: 'precision', values: h.precision }, { name: 'val_precision', values: h.val_precision }, { name: 'val_recall', values: h.val_recall }], { title: 'Precision / recall' }));

const reportPath = await writeReport(opts.out as string, {
  title: 'tscnn — cats vs dogs',
  settings: {
    data: opts.data ? dataDir : `built-in synthetic (${opts.count} images, ${Math.round(num('imbalance') * 100)} % cats)`,
    'image size': `${imageSize}×${imageSize}`,
    epochs,
    'batch size': batchSize,
    optimizer: `${optimizerName} (lr ${lr}${optimizerName === 'sgd' ? `, momentum ${opts.momentum}` : ''})`,
    'class weight': classWeight ?? 'none',
    backend: getBackend().name,
    seed,
    'wall time': `${trainSeconds.toFixed(1)} s`,
  },
  history: h,
  pr: precisionRecallCurve(yTrue, scores),
  threshold,
  confusion: { matrix, classNames: train.classNames },
  summary: model.summary({ print: false }),
  diagnostics: history.diagnostics,
  notes: [
    'Precision, recall and accuracy are streaming metrics: counts accumulate over the whole epoch, so they are exact for the epoch, unlike a per-batch average.',
  ],
});
console.log(`\nReport: ${reportPath}`);
const saveDir = opts.save ?? join(opts.out as string, 'model');
if (saveDir !== 'none') {
  await model.save(resolve(saveDir));
  console.log(`Model saved to ${resolve(saveDir)} (classify an image with: npm run classify -- ${resolve(saveDir)} IMAGE)`);
}
console.log(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
