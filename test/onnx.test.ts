// ONNX export checked by running the exported model in ONNX Runtime (onnxruntime-node) against
// tscnn's own predictions: every layer and activation on random weights, a briefly trained
// seed-like model, two batch sizes through one session (the batch dimension is dynamic), the
// file variant, errors naming the layer, and protobufjs loaded only by the exporter.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exportOnnx, toOnnx } from '../src/io/onnx/index.js';
import * as layers from '../src/layers/index.js';
import { Sequential } from '../src/model/sequential.js';
import { SGD } from '../src/train/optimizers.js';
import { Tensor } from '../src/tensor.js';
import { buildUserModel } from '../examples/lib/user-model.js';
import { CustomLayer, randomArray, rejects } from './helpers.js';
import { checkAgainstOrt, randomizeWeights } from './onnx-check.js';

const root = mkdtempSync(join(tmpdir(), 'tscnn-onnx-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const ACTIVATIONS = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'leakyRelu', 'elu', 'selu', 'softplus', 'softsign', 'swish', 'hardSigmoid'] as const;

for (const kind of ACTIVATIONS) {
  test(`activation ${kind}: Conv2D (NCHW inside the graph), Activation, Dense on [batch, units]`, async () => {
    const model = new Sequential();
    model.add(new layers.Conv2D({ filters: 5, kernelSize: 3, padding: 'same', activation: kind, inputShape: [6, 7, 3] }));
    model.add(new layers.Activation(kind));
    model.add(new layers.MaxPooling2D({ poolSize: 2 }));
    model.add(new layers.Activation(kind));
    model.add(new layers.Flatten());
    model.add(new layers.Dense({ units: 4, activation: kind }));
    randomizeWeights(model, 11);
    await checkAgainstOrt(model, [1, 3], 5, kind);
  });
}

test('Conv2D: valid and same padding, strides 2 (odd sizes: extra pad bottom/right), dilation 2, no bias, 2×3 kernel; output stays NHWC', async () => {
  const model = new Sequential();
  model.add(new layers.Conv2D({ filters: 4, kernelSize: [2, 3], strides: 2, padding: 'same', inputShape: [9, 8, 2] }));
  model.add(new layers.Conv2D({ filters: 6, kernelSize: 3, dilationRate: 2, padding: 'same', useBias: false }));
  model.add(new layers.Conv2D({ filters: 3, kernelSize: 2, strides: [1, 2], padding: 'valid', activation: 'relu' }));
  randomizeWeights(model, 21);
  await checkAgainstOrt(model, [2, 5], 7, 'conv variants');
});

test('MobileNet layers: ZeroPadding2D (Pad), DepthwiseConv2D (Conv group = C; multiplier 2, stride 2, bias), SeparableConv2D (two Convs), ReLU as Clip, LeakyRelu and the Where subgraph', async () => {
  const model = new Sequential();
  model.add(new layers.ZeroPadding2D({ padding: [[1, 0], [2, 1]], inputShape: [9, 8, 3] }));
  model.add(new layers.DepthwiseConv2D({ kernelSize: 3, strides: 2, depthMultiplier: 2, padding: 'same', activation: 'tanh' }));
  model.add(new layers.BatchNormalization());
  model.add(new layers.ReLU({ maxValue: 6 }));
  model.add(new layers.DepthwiseConv2D({ kernelSize: [3, 2], useBias: false, dilationRate: 1 }));
  model.add(new layers.ReLU({ negativeSlope: 0.2 }));
  model.add(new layers.SeparableConv2D({ filters: 5, kernelSize: 2, padding: 'same', depthMultiplier: 2 }));
  model.add(new layers.ReLU({ maxValue: 0.8, negativeSlope: 0.1, threshold: 0.1 }));
  model.add(new layers.ReLU());
  model.add(new layers.Flatten());
  model.add(new layers.Dense({ units: 3 }));
  randomizeWeights(model, 31);
  await checkAgainstOrt(model, [1, 4], 9, 'mobilenet layers');
});

test('BatchNormalization: folded after a linear Conv2D and Dense, as a node after relu (4-D and 2-D), as Mul/Add on rank 3', async () => {
  const model = new Sequential();
  model.add(new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', inputShape: [8, 8, 3] }));
  model.add(new layers.BatchNormalization());
  model.add(new layers.Conv2D({ filters: 5, kernelSize: 3, activation: 'relu', useBias: false }));
  model.add(new layers.BatchNormalization({ epsilon: 0.01 }));
  model.add(new layers.Flatten());
  model.add(new layers.Dense({ units: 6 }));
  model.add(new layers.BatchNormalization({ center: false }));
  model.add(new layers.Activation('tanh'));
  model.add(new layers.BatchNormalization({ scale: false }));
  model.add(new layers.Dense({ units: 3, activation: 'softmax' }));
  randomizeWeights(model, 31);
  await checkAgainstOrt(model, [1, 4], 9, 'batch norm');
  const rank3 = new Sequential();
  rank3.add(new layers.Dense({ units: 5, inputShape: [3, 4], activation: 'relu' }));
  rank3.add(new layers.BatchNormalization());
  rank3.add(new layers.Dense({ units: 2 }));
  rank3.add(new layers.BatchNormalization());
  randomizeWeights(rank3, 41);
  await checkAgainstOrt(rank3, [2, 3], 13, 'rank-3 dense and batch norm');
});

test('MaxPooling2D: same padding with odd sizes, strides unlike the pool; Dense on a 4-D input; Flatten in NHWC order', async () => {
  const model = new Sequential();
  model.add(new layers.MaxPooling2D({ poolSize: 3, strides: 2, padding: 'same', inputShape: [7, 9, 3] }));
  model.add(new layers.Conv2D({ filters: 4, kernelSize: 1 }));
  model.add(new layers.MaxPooling2D({ poolSize: [2, 3], strides: 1 }));
  model.add(new layers.Dense({ units: 3 }));
  model.add(new layers.Flatten());
  model.add(new layers.Dense({ units: 2 }));
  randomizeWeights(model, 51);
  await checkAgainstOrt(model, [1, 2], 17, 'pools');
});

test('Dropout and the augmentation layers are the identity in the exported graph', async () => {
  const model = new Sequential();
  model.add(new layers.RandomFlip('horizontal', { inputShape: [6, 6, 2] }));
  model.add(new layers.RandomTranslation({ heightFactor: 0.2, widthFactor: 0.2 }));
  model.add(new layers.RandomRotation({ factor: 0.2 }));
  model.add(new layers.RandomZoom({ heightFactor: 0.2 }));
  model.add(new layers.RandomContrast({ factor: 0.2 }));
  model.add(new layers.Conv2D({ filters: 3, kernelSize: 3 }));
  model.add(new layers.Dropout({ rate: 0.5 }));
  model.add(new layers.Flatten());
  model.add(new layers.Dropout({ rate: 0.3 }));
  randomizeWeights(model, 61);
  await checkAgainstOrt(model, [2, 3], 19, 'identity layers');
  const only = new Sequential();
  only.add(new layers.Dropout({ rate: 0.5, inputShape: [4] }));
  await checkAgainstOrt(only, [2], 23, 'a model of one Dropout');
});

test('a briefly trained seed-like model (Conv/BN/relu/pool ×4, Dropout, Dense, BN, sigmoid) agrees with ONNX Runtime', async () => {
  const size = 24;
  const model = buildUserModel(size);
  model.compile({ optimizer: new SGD({ learningRate: 0.05, momentum: 0.9 }), loss: 'binaryCrossentropy' });
  const n = 32;
  const x = new Tensor(randomArray(n * size * size * 3, 71, 0, 1), [n, size, size, 3]);
  const y = new Tensor(randomArray(n, 72, 0, 1).map((v) => (v < 0.5 ? 0 : 1)), [n, 1]);
  await model.fit(x, y, { epochs: 3, batchSize: 8, seed: 3, verbose: 0 });
  const mean = model.params().find((p) => p.name.endsWith('moving_mean'))!.value;
  assert.ok(mean.some((v) => v !== 0), 'training moved the moving mean (the test checks trained statistics)');
  await checkAgainstOrt(model, [1, 7], 29, 'trained seed model', [0, 1]);
});

test('exportOnnx writes the same bytes as toOnnx, which ONNX Runtime opens from the file', async () => {
  const model = buildUserModel(16);
  const file = join(root, 'seed.onnx');
  await exportOnnx(model, file);
  const bytes = readFileSync(file);
  const again = await toOnnx(model);
  assert.ok(bytes.length > 100_000 && Buffer.compare(bytes, again) === 0, `file ${bytes.length} bytes, toOnnx ${again.length} bytes, equal: ${Buffer.compare(bytes, again) === 0}`);
  const session = await ort.InferenceSession.create(file);
  assert.equal(session.inputNames, ['input']);
  assert.equal(session.outputNames, ['output']);
  await session.release();
  await rejects(exportOnnx(model, ''), /exportOnnx: file must be a non-empty path/);
});

test('a layer without an ONNX mapping throws naming it, before any weight is drawn', async () => {
  const model = new Sequential();
  model.add(new layers.Dense({ units: 3, inputShape: [4] }));
  model.add(new CustomLayer());
  const msg = await rejects(toOnnx(model), /exportOnnx: layer 'custom(_\d+)?' \(Custom\) has no ONNX mapping; supported layers: InputLayer, Conv2D/);
  assert.ok(!model.layers[0]!.isInitialized, `weights still undrawn after: ${msg}`);
  await rejects(toOnnx(new Sequential()), /exportOnnx: the model '.*' has no layers/);
  await rejects(toOnnx({} as Sequential), /exportOnnx: expects a Sequential or functional model, got \[object Object\]/);
});

test('importing tscnn does not load protobufjs; exporting does', () => {
  const script = [
    "import { createRequire } from 'node:module';",
    'const require = createRequire(import.meta.url);',
    "const loaded = () => Object.keys(require.cache).some((k) => k.includes('protobufjs'));",
    "const tscnn = await import('./src/index.ts');",
    'const before = loaded();',
    'const m = new tscnn.Sequential();',
    'm.add(new tscnn.layers.Dense({ units: 1, inputShape: [2] }));',
    'await tscnn.toOnnx(m);',
    'console.log(JSON.stringify({ before, after: loaded() }));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(JSON.parse(out.trim().split('\n').pop()!), { before: false, after: true });
});

test.run();
