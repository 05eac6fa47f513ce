// Parity with TensorFlow.js 4.22 (tf.model, 'cpu' backend) for functional models beyond one
// input and one output: a two-input two-output model (per-output losses, loss weights and
// metrics; trainOnBatch and fit logs under Keras' names) and a siamese model whose Conv2D/Dense
// tower is one set of layers applied to both inputs. Each: layer order, predictions, the losses
// of three SGD steps and every weight after them, then tscnn → tf.loadLayersModel and TF.js →
// tscnn's loadModel.
import * as tf from '@tensorflow/tfjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { input, layers, loadModel, Model, optimizers, Sequential, setSeed, tensor, toMemory, type LayersModel, type SymbolicTensor, type Tensor } from '../src/index.js';
import type { ModelJSON } from '../src/io/index.js';
import { tscnnLoads } from './tfjs-graph-pair.js';
import { assertClose, rng, rejects, type Tolerance } from './helpers.js';

tf.enableProdMode();
await tf.setBackend('cpu');

/** As test/tfjs-parity.test.ts: float32 on both sides, sums in different orders. */
const FORWARD: Tolerance = { atol: 1e-5, rtol: 1e-4 };
/** As test/tfjs-parity.test.ts: the weight changes, which isolate the gradients. */
const UPDATE: Tolerance = { atol: 2.5e-7, rtol: 1e-3 };
const BATCH = 6;

type TfSym = tf.SymbolicTensor;

/** A tensor of `shape` with values in [-1, 1) from `seed`, on both sides. */
function pairOf(seed: number, shape: number[]): { ours: Tensor; theirs: tf.Tensor } {
  const r = rng(seed);
  const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * r() - 1);
  return { ours: tensor(values, shape), theirs: tf.tensor(values, shape) };
}

/** One-hot labels of `units` classes, both sides. */
function oneHot(units: number): { ours: Tensor; theirs: tf.Tensor } {
  const v = new Float32Array(BATCH * units);
  for (let i = 0; i < BATCH; i++) v[i * units + ((i * 7) % units)] = 1;
  return { ours: tensor(v, [BATCH, units]), theirs: tf.tensor(v, [BATCH, units]) };
}

/** tscnn's weights (biases made non-zero) copied into the TF.js model, layer by name. */
function sync(m: LayersModel, t: tf.LayersModel, seed: number): void {
  const r = rng(seed);
  m.setWeights(m.getWeights().map((w, i) => (m.params()[i].name.endsWith('/bias') ? tensor(Float32Array.from(w.values, () => 0.2 * (2 * r() - 1)), [...w.shape]) : w)));
  for (const layer of m.layers) {
    const params = layer.params();
    if (params.length) t.getLayer(layer.name).setWeights(params.map((p) => tf.tensor(p.value.slice(), [...p.shape])));
  }
}

/** The TF.js layer named `name`, at the top or inside a nested model. */
function tfLayer(t: tf.LayersModel, name: string): tf.layers.Layer {
  for (const l of t.layers) {
    if (l.name === name) return l;
    if (l instanceof tf.LayersModel) {
      const inner = l.layers.some((k) => k.name === name) || l.layers.some((k) => k instanceof tf.LayersModel);
      if (inner) {
        try {
          return tfLayer(l, name);
        } catch {
          // not in this nested model: look on
        }
      }
    }
  }
  throw new Error(`TF.js model has no layer '${name}'`);
}

/** Every weight of `m` against the TF.js layer's weight of the same name; each trainable one updated as TF.js updated it. */
function sameWeights(m: LayersModel, t: tf.LayersModel, before: Float32Array[], what: string): void {
  const after = m.getWeights().map((w) => w.values);
  m.params().forEach((p, i) => {
    const [layerName, weightName] = p.name.split('/');
    const tw = tfLayer(t, layerName).weights.find((w) => w.name.split('/').pop()!.replace(/_\d+$/, '') === weightName)!;
    const theirs = tw.read().dataSync() as Float32Array;
    assertClose(after[i], theirs, FORWARD, `${p.name} ${what}`);
    const dOurs = after[i].map((v, k) => v - before[i][k]);
    if (!p.trainable) {
      assert.ok(dOurs.every((d) => d === 0), `${p.name} (frozen) is unchanged ${what}`);
      return;
    }
    assert.ok(dOurs.some((d) => d !== 0), `${p.name} was updated ${what}`);
    assertClose(dOurs, theirs.map((v, k) => v - before[i][k]), UPDATE, `update of ${p.name} ${what}`);
  });
}

/** tscnn's save, loaded by TF.js: same layers, same predictions for every output. */
async function tfjsLoads(m: LayersModel, xs: tf.Tensor[], expected: Float32Array[]): Promise<void> {
  const { modelJSON, weights } = toMemory(m);
  const loaded = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: modelJSON.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: modelJSON.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
    weightData: weights,
  }));
  assert.equal(loaded.layers.map((l) => l.name), m.layers.map((l) => l.name), 'TF.js reads the layers');
  const out = loaded.predict(xs.length === 1 ? xs[0] : xs);
  (Array.isArray(out) ? out : [out]).forEach((o, i) => assertClose(o.dataSync(), expected[i], FORWARD, `TF.js predictions of output ${i} of the saved model`));
  loaded.dispose();
}

/** image [5, 5, 2] → conv → flatten ┐
 *  vector [4] → dense(tanh) ─────────┴ concat → dense(relu) → cls (softmax, 3) and reg (linear, 2). */
function twoByTwo(): { m: Model; t: tf.LayersModel } {
  const img = input({ shape: [5, 5, 2], name: 'img' });
  const vec = input({ shape: [4], name: 'vec' });
  const f = new layers.Flatten({ name: 'flat' }).apply(new layers.Conv2D({ filters: 3, kernelSize: 3, activation: 'relu', name: 'conv' }).apply(img));
  const v = new layers.Dense({ units: 4, activation: 'tanh', name: 'vec_dense' }).apply(vec);
  const h = new layers.Dense({ units: 6, activation: 'relu', name: 'hidden' }).apply(new layers.Concatenate({ name: 'cat' }).apply([f, v]));
  const cls = new layers.Dense({ units: 3, activation: 'softmax', name: 'cls' }).apply(h);
  const reg = new layers.Dense({ units: 2, name: 'reg' }).apply(h);
  const m = new Model({ inputs: [img, vec], outputs: [cls, reg], name: 'two_by_two' });

  const ti = tf.input({ shape: [5, 5, 2], name: 'img' });
  const tv = tf.input({ shape: [4], name: 'vec' });
  const tfl = tf.layers.flatten({ name: 'flat' }).apply(tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', name: 'conv' }).apply(ti)) as TfSym;
  const tvd = tf.layers.dense({ units: 4, activation: 'tanh', name: 'vec_dense' }).apply(tv) as TfSym;
  const th = tf.layers.dense({ units: 6, activation: 'relu', name: 'hidden' }).apply(tf.layers.concatenate({ name: 'cat' }).apply([tfl, tvd])) as TfSym;
  const tc = tf.layers.dense({ units: 3, activation: 'softmax', name: 'cls' }).apply(th) as TfSym;
  const tr = tf.layers.dense({ units: 2, name: 'reg' }).apply(th) as TfSym;
  return { m, t: tf.model({ inputs: [ti, tv], outputs: [tc, tr], name: 'two_by_two' }) };
}

test('two inputs, two outputs: predictions, weighted per-output losses of trainOnBatch and fit, every weight, save both ways match tfjs', async () => {
  setSeed(7);
  const { m, t } = twoByTwo();
  assert.equal(m.layers.map((l) => l.name), t.layers.map((l) => l.name), 'model.layers order');
  assert.equal(m.inputNames, t.inputNames);
  assert.equal(m.outputNames, t.outputNames);
  sync(m, t, 3);
  const img = pairOf(11, [BATCH, 5, 5, 2]);
  const vec = pairOf(12, [BATCH, 4]);
  const cls = oneHot(3);
  const reg = pairOf(13, [BATCH, 2]);
  const preds = (await m.predict([img.ours, vec.ours])) as Tensor[];
  assert.ok(Array.isArray(preds) && preds.length === 2, 'predict returns one tensor per output');
  const theirs = t.predict([img.theirs, vec.theirs]) as tf.Tensor[];
  preds.forEach((p, i) => assertClose(p.values, theirs[i].dataSync(), FORWARD, `output ${i}`));
  const byName = (await m.predict({ vec: vec.ours, img: img.ours })) as Tensor[];
  assert.equal(Array.from(byName[1].values), Array.from(preds[1].values), 'x as a dict by input name');

  const w0 = m.getWeights().map((w) => w.values.slice());
  m.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: { reg: 'meanSquaredError', cls: 'categoricalCrossentropy' }, lossWeights: [1, 0.5], metrics: { cls: ['accuracy'] } });
  // TF.js 4.22 has no lossWeights: its reg loss is weighted by hand, so its reg_loss is 0.5 · ours.
  const halfMse = (yt: tf.Tensor, yp: tf.Tensor) => tf.metrics.meanSquaredError(yt, yp).mul(0.5);
  t.compile({ optimizer: tf.train.sgd(0.1), loss: ['categoricalCrossentropy' as unknown as typeof halfMse, halfMse], metrics: { cls: 'accuracy' } });
  for (let step = 1; step <= 3; step++) {
    const ours = await m.trainOnBatch([img.ours, vec.ours], [cls.ours, reg.ours]);
    const [total, clsLoss, regLoss] = (await t.trainOnBatch([img.theirs, vec.theirs], [cls.theirs, reg.theirs])) as number[];
    assertClose([ours.loss, ours.cls_loss, 0.5 * ours.reg_loss], [total, clsLoss, regLoss], FORWARD, `losses at step ${step}`);
    assert.ok(Math.abs(ours.loss - (ours.cls_loss + 0.5 * ours.reg_loss)) < 1e-5, 'loss = cls_loss + 0.5 · reg_loss');
    assert.ok('cls_acc' in ours || 'cls_accuracy' in ours, `per-output metric in the logs: ${Object.keys(ours).join(', ')}`);
  }
  sameWeights(m, t, w0, 'after three trainOnBatch steps');

  const w1 = m.getWeights().map((w) => w.values.slice());
  const h = await m.fit({ img: img.ours, vec: vec.ours }, { cls: cls.ours, reg: reg.ours }, { epochs: 2, batchSize: 3, shuffle: false, verbose: 0 });
  const th = await t.fit([img.theirs, vec.theirs], [cls.theirs, reg.theirs], { epochs: 2, batchSize: 3, shuffle: false, verbose: 0 });
  for (const key of ['loss', 'cls_loss']) assertClose(h.history[key], th.history[key] as number[], FORWARD, `fit history ${key}`);
  assertClose(h.history.reg_loss.map((l) => 0.5 * l), th.history.reg_loss as number[], FORWARD, 'fit history reg_loss (TF.js: weighted by hand)');
  const acc = Object.keys(th.history).find((k) => k.startsWith('cls_acc'))!;
  assertClose(h.history.cls_accuracy ?? h.history.cls_acc, th.history[acc] as number[], FORWARD, `fit history ${acc}`);
  sameWeights(m, t, w1, 'after fit');
  const ev = await m.evaluate([img.ours, vec.ours], [cls.ours, reg.ours], { batchSize: 4 });
  const tev = (t.evaluate([img.theirs, vec.theirs], [cls.theirs, reg.theirs], { batchSize: 4 }) as tf.Scalar[]).map((s) => s.dataSync()[0]);
  // TF.js 4.22's evaluate of a two-output model returns one value more than its metricsNames, first: the total is at 1.
  assertClose([ev.loss, ev.cls_loss, 0.5 * ev.reg_loss, ev.cls_accuracy], tev.slice(-4), FORWARD, 'evaluate');

  const after = ((await m.predict([img.ours, vec.ours])) as Tensor[]).map((p) => p.values);
  await tfjsLoads(m, [img.theirs, vec.theirs], after);
  const back = (await tscnnLoads(t)).model;
  assert.equal(back.inputNames, ['img', 'vec']);
  const again = (await back.predict([img.ours, vec.ours])) as Tensor[];
  again.forEach((p, i) => assertClose(p.values, after[i], FORWARD, `tscnn predictions of output ${i} of TF.js' save`));
});

test('two inputs, two outputs: datasets of { xs, ys }, validation data, and errors naming the input or output', async () => {
  setSeed(8);
  const { m } = twoByTwo();
  const img = pairOf(21, [BATCH, 5, 5, 2]).ours;
  const vec = pairOf(22, [BATCH, 4]).ours;
  const cls = oneHot(3).ours;
  const reg = pairOf(23, [BATCH, 2]).ours;
  m.compile({ optimizer: new optimizers.SGD({ learningRate: 0.05 }), loss: ['categoricalCrossentropy', 'meanSquaredError'], metrics: [['accuracy'], ['mae']] });
  const w0 = m.getWeights().map((w) => w.values.slice());
  await rejects(m.fit([img, img], [cls, reg], { verbose: 0 }), /fit: x for input 'vec' has shape \[6, 5, 5, 2\], the model expects \(None, 4\)/);
  await rejects(m.fit([img], [cls, reg], { verbose: 0 }), /fit: x is a list of 1 but the model has 2 inputs \('img', 'vec'\)/);
  await rejects(m.fit(img, [cls, reg], { verbose: 0 }), /fit: x is one tensor but the model has 2 inputs/);
  await rejects(m.fit({ img, vector: vec }, [cls, reg], { verbose: 0 }), /fit: x names 'vector', not among the inputs \('img', 'vec'\)/);
  await rejects(m.fit([img, vec], { cls }, { verbose: 0 }), /fit: y has no tensor for output 'reg'/);
  await rejects(m.fit([img, vec], [reg, cls], { verbose: 0 }), /fit: y for output 'cls' has shape \[6, 2\], the model outputs \(None, 3\)/);
  await rejects(m.predict([img, tensor(new Float32Array(4 * 4), [4, 4])]), /predict: x for input 'vec' has 4 samples but x for input 'img' has 6/);
  assert.equal(m.getWeights().map((w) => Array.from(w.values)), w0.map((w) => Array.from(w)), 'bad input leaves the weights alone');
  assert.throws(() => m.compile({ optimizer: 'sgd', loss: ['mse'] }), /compile: loss is a list of 1, the model has 2 outputs \(cls, reg\)/);
  assert.throws(() => m.compile({ optimizer: 'sgd', loss: { cls: 'mse', box: 'mse' } }), /compile: loss names 'box', not among the outputs/);

  const rows = (t: Tensor, from: number, to: number) => {
    const per = t.size / t.shape[0]!;
    return tensor(t.values.slice(from * per, to * per), [to - from, ...(t.shape as number[]).slice(1)]);
  };
  const dataset = {
    size: BATCH,
    numBatches: 2,
    async *batches() {
      for (const from of [0, 3]) yield { xs: { img: rows(img, from, from + 3), vec: rows(vec, from, from + 3) }, ys: [rows(cls, from, from + 3), rows(reg, from, from + 3)] };
    },
  };
  const twin = twoByTwo().m;
  twin.setWeights(m.getWeights());
  twin.compile({ optimizer: new optimizers.SGD({ learningRate: 0.05 }), loss: ['categoricalCrossentropy', 'meanSquaredError'], metrics: [['accuracy'], ['mae']] });
  const hd = await m.fit(dataset, { epochs: 2, verbose: 0, validationData: [[img, vec], [cls, reg]] });
  const ht = await twin.fit([img, vec], [cls, reg], { epochs: 2, batchSize: 3, shuffle: false, verbose: 0, validationData: dataset });
  assert.equal(Object.keys(hd.history).sort(), ['cls_accuracy', 'cls_loss', 'loss', 'reg_loss', 'reg_mae', 'val_cls_accuracy', 'val_cls_loss', 'val_loss', 'val_reg_loss', 'val_reg_mae']);
  for (const key of Object.keys(hd.history)) assertClose(hd.history[key], ht.history[key], { atol: 1e-6, rtol: 1e-5 }, `dataset vs tensors: ${key}`);
  const ev = await m.evaluate(dataset);
  assertClose([ev.loss], [hd.history.val_loss[1]], { atol: 1e-6, rtol: 1e-5 }, 'evaluate on the dataset = last val_loss (same weights)');
});

/** A siamese pair: one Conv2D → Flatten → Dense tower applied to both images, the codes concatenated → sigmoid head. */
function siamese(): { m: Model; t: tf.LayersModel } {
  const a = input({ shape: [6, 6, 1], name: 'left' });
  const b = input({ shape: [6, 6, 1], name: 'right' });
  const conv = new layers.Conv2D({ filters: 2, kernelSize: 3, activation: 'relu', name: 'tower_conv' });
  const flat = new layers.Flatten({ name: 'tower_flat' });
  const dense = new layers.Dense({ units: 4, activation: 'tanh', name: 'tower_dense' });
  const tower = (x: SymbolicTensor) => dense.apply(flat.apply(conv.apply(x)));
  const y = new layers.Dense({ units: 1, activation: 'sigmoid', name: 'head' }).apply(new layers.Concatenate({ name: 'codes' }).apply([tower(a), tower(b)]));
  const m = new Model({ inputs: [a, b], outputs: y, name: 'siamese' });

  const ta = tf.input({ shape: [6, 6, 1], name: 'left' });
  const tb = tf.input({ shape: [6, 6, 1], name: 'right' });
  const tconv = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu', name: 'tower_conv' });
  const tflat = tf.layers.flatten({ name: 'tower_flat' });
  const tdense = tf.layers.dense({ units: 4, activation: 'tanh', name: 'tower_dense' });
  const ttower = (x: TfSym) => tdense.apply(tflat.apply(tconv.apply(x))) as TfSym;
  const ty = tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'head' }).apply(tf.layers.concatenate({ name: 'codes' }).apply([ttower(ta), ttower(tb)])) as TfSym;
  return { m, t: tf.model({ inputs: [ta, tb], outputs: ty, name: 'siamese' }) };
}

test('siamese model (a shared Conv2D/Dense tower): layer order, summary node indices, predictions, three SGD steps, every weight, save both ways match tfjs', async () => {
  setSeed(9);
  const { m, t } = siamese();
  assert.equal(m.layers.map((l) => l.name), t.layers.map((l) => l.name), 'model.layers order');
  assert.is(m.params().length, 6, 'the tower counts its weights once');
  assert.match(m.summary({ print: false }), /tower_conv \(Conv2D\)\s+\(None, 4, 4, 2\)\s+20\s+left\[0\]\[0\]\n\s+right\[0\]\[0\]/);
  assert.match(m.summary({ print: false }), /codes \(Concatenate\)\s+\(None, 8\)\s+0\s+tower_dense\[0\]\[0\]\n\s+tower_dense\[1\]\[0\]/);
  sync(m, t, 4);
  const left = pairOf(31, [BATCH, 6, 6, 1]);
  const right = pairOf(32, [BATCH, 6, 6, 1]);
  const yv = Float32Array.from({ length: BATCH }, (_, i) => i % 2);
  const p0 = (await m.predict([left.ours, right.ours])) as Tensor;
  assertClose(p0.values, (t.predict([left.theirs, right.theirs]) as tf.Tensor).dataSync(), FORWARD, 'predictions');
  const swapped = (await m.predict([right.ours, left.ours])) as Tensor;
  assert.ok(swapped.values.some((v, i) => Math.abs(v - p0.values[i]) > 1e-4), 'the two inputs take different paths to the head (a real check)');

  const w0 = m.getWeights().map((w) => w.values.slice());
  m.compile({ optimizer: new optimizers.SGD({ learningRate: 0.2 }), loss: 'binaryCrossentropy' });
  t.compile({ optimizer: tf.train.sgd(0.2), loss: 'binaryCrossentropy' });
  for (let step = 1; step <= 3; step++) {
    const ours = (await m.trainOnBatch([left.ours, right.ours], tensor(yv, [BATCH, 1]))).loss;
    const theirs = (await t.trainOnBatch([left.theirs, right.theirs], tf.tensor(yv, [BATCH, 1]))) as number;
    assertClose([ours], [theirs], FORWARD, `loss at step ${step}`);
  }
  sameWeights(m, t, w0, 'after three steps (the tower\'s gradients summed over both calls)');

  const after = [((await m.predict([left.ours, right.ours])) as Tensor).values];
  await tfjsLoads(m, [left.theirs, right.theirs], after);
  const { modelJSON } = toMemory(m);
  const entries = (modelJSON.modelTopology as { config: { layers: { name: string; inbound_nodes: unknown }[] } }).config.layers;
  assert.equal(entries.find((l) => l.name === 'tower_conv')!.inbound_nodes, [[['left', 0, 0, {}]], [['right', 0, 0, {}]]]);
  assert.equal(entries.find((l) => l.name === 'codes')!.inbound_nodes, [[['tower_dense', 0, 0, {}], ['tower_dense', 1, 0, {}]]]);
  const back = (await tscnnLoads(t)).model;
  assert.equal(back.layers.map((l) => l.name), t.layers.map((l) => l.name));
  assertClose(((await back.predict([left.ours, right.ours])) as Tensor).values, (t.predict([left.theirs, right.theirs]) as tf.Tensor).dataSync(), FORWARD, 'tscnn predictions of TF.js\' save');
});

/** base: x → conv(relu) → global average pool → dense(relu), a functional model; outer: img → base → dense(softmax). */
function nested(): { m: Model; base: Model; t: tf.LayersModel; tBase: tf.LayersModel } {
  const x = input({ shape: [6, 6, 2], name: 'base_in' });
  const f = new layers.Dense({ units: 4, activation: 'relu', name: 'base_dense' }).apply(
    new layers.GlobalAveragePooling2D({ name: 'base_gap' }).apply(new layers.Conv2D({ filters: 3, kernelSize: 3, activation: 'relu', name: 'base_conv' }).apply(x)),
  );
  const base = new Model({ inputs: x, outputs: f, name: 'base' });
  const img = input({ shape: [6, 6, 2], name: 'img' });
  const m = new Model({ inputs: img, outputs: new layers.Dense({ units: 2, activation: 'softmax', name: 'head' }).apply(base.apply(img)), name: 'outer' });

  const tx = tf.input({ shape: [6, 6, 2], name: 'base_in' });
  const tf1 = tf.layers.dense({ units: 4, activation: 'relu', name: 'base_dense' }).apply(
    tf.layers.globalAveragePooling2d({ name: 'base_gap' }).apply(tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', name: 'base_conv' }).apply(tx)),
  ) as TfSym;
  const tBase = tf.model({ inputs: tx, outputs: tf1, name: 'base' });
  const timg = tf.input({ shape: [6, 6, 2], name: 'img' });
  const t = tf.model({ inputs: timg, outputs: tf.layers.dense({ units: 2, activation: 'softmax', name: 'head' }).apply(tBase.apply(timg)) as TfSym, name: 'outer' });
  return { m, base, t, tBase };
}

test('nested model (a functional base used as a layer): predictions, SGD steps, every weight, base.trainable = false freezes it, save both ways match tfjs', async () => {
  setSeed(10);
  const { m, base, t, tBase } = nested();
  assert.equal(m.layers.map((l) => l.name), t.layers.map((l) => l.name), 'model.layers order');
  assert.equal(m.getLayer('base').className, 'Functional');
  assert.match(m.summary({ print: false }), /base \(Functional\)\s+\(None, 4\)\s+73\s+img\[0\]\[0\]/);
  sync(m, t, 5);
  const x = pairOf(41, [BATCH, 6, 6, 2]);
  const y = oneHot(2);
  assertClose(((await m.predict(x.ours)) as Tensor).values, (t.predict(x.theirs) as tf.Tensor).dataSync(), FORWARD, 'predictions');
  assertClose(((await base.predict(x.ours)) as Tensor).values, (tBase.predict(x.theirs) as tf.Tensor).dataSync(), FORWARD, 'the base alone');

  let w0 = m.getWeights().map((w) => w.values.slice());
  m.compile({ optimizer: new optimizers.SGD({ learningRate: 0.3 }), loss: 'categoricalCrossentropy' });
  t.compile({ optimizer: tf.train.sgd(0.3), loss: 'categoricalCrossentropy' });
  for (let step = 1; step <= 3; step++) {
    assertClose([(await m.trainOnBatch(x.ours, y.ours)).loss], [(await t.trainOnBatch(x.theirs, y.theirs)) as number], FORWARD, `loss at step ${step}`);
  }
  sameWeights(m, t, w0, 'after three steps');

  base.trainable = false;
  tBase.trainable = false;
  t.compile({ optimizer: tf.train.sgd(0.3), loss: 'categoricalCrossentropy' });
  assert.is(m.getLayer('base').trainable, false);
  assert.match(m.summary({ print: false }), /Trainable params: 10\nNon-trainable params: 73/);
  w0 = m.getWeights().map((w) => w.values.slice());
  for (let step = 1; step <= 2; step++) {
    assertClose([(await m.trainOnBatch(x.ours, y.ours)).loss], [(await t.trainOnBatch(x.theirs, y.theirs)) as number], FORWARD, `frozen base: loss at step ${step}`);
  }
  sameWeights(m, t, w0, 'with the base frozen');

  const after = [((await m.predict(x.ours)) as Tensor).values];
  await tfjsLoads(m, [x.theirs], after);
  const back = (await tscnnLoads(t)).model;
  assert.equal(back.layers.map((l) => l.name), ['img', 'base', 'head']);
  // TF.js writes no trainable flag for a frozen nested model (its layers' configs keep theirs): only tscnn's own save keeps it.
  const ownSave = toMemory(m);
  const reloaded = await loadModel({ modelJSON: ownSave.modelJSON, weights: ownSave.weights });
  assert.is(reloaded.getLayer('base').trainable, false, 'the frozen base stays frozen through tscnn save → load');
  assert.is(reloaded.getLayer('head').trainable, true);
  assertClose(((await back.predict(x.ours)) as Tensor).values, (t.predict(x.theirs) as tf.Tensor).dataSync(), FORWARD, 'tscnn predictions of TF.js\' save');
});

test('a model nested in a Sequential, and errors for misuse of nested models', async () => {
  const x = input({ shape: [3], name: 'feat_in' });
  const feat = new Model({ inputs: x, outputs: new layers.Dense({ units: 2, activation: 'tanh', name: 'feat_dense' }).apply(x), name: 'feat' });
  const seq = new Sequential({ name: 'seq', layers: [feat, new layers.Dense({ units: 1, name: 'out' })] });
  assert.equal(seq.layers.map((l) => l.name), ['feat', 'out']);
  const xs = tensor(Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)), [4, 3]);
  const direct = (await seq.predict(xs)).values;
  const twoSteps = seq.getLayer('out').apply((await feat.predict(xs)) as Tensor);
  assertClose(direct, twoSteps.values, { atol: 1e-6, rtol: 1e-6 }, 'the Sequential runs the nested model, then its Dense');
  const { modelJSON, weights } = toMemory(seq);
  const back = await loadModel({ modelJSON, weights });
  assert.equal(Array.from(((await back.predict(xs)) as Tensor).values), Array.from(direct), 'save → load of a Sequential holding a model');
  assert.throws(() => feat.apply(input({ shape: [3] })), /Functional 'feat': the model is already used as a layer in Sequential 'seq'; applying it a second time/);
  const two = input({ shape: [2] });
  const twoOut = new Model({ inputs: two, outputs: [new layers.Dense({ units: 1 }).apply(two), new layers.Dense({ units: 1 }).apply(two)] });
  assert.throws(() => twoOut.apply(input({ shape: [2] })), /Functional 'model': a model with 2 outputs cannot be used as a layer/);
  const fx = input({ shape: [3] });
  const fresh = new Model({ inputs: fx, outputs: new layers.Dense({ units: 2 }).apply(fx), name: 'fresh' });
  assert.throws(() => fresh.apply(input({ shape: [5] })), /Functional 'fresh': input 0 must be \(None, 3\), got \(None, 5\)/);
});

test.run();
