// The functional API: graph building and its errors, Add / Concatenate by hand, a central-difference
// gradient check of a whole graph with a residual fan-out and two concatenations, frozen layers
// (no updates; BatchNormalization keeps its moving statistics), save → load round trip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toOnnx } from '../src/io/onnx/index.js';
import { input, layers, loadModel, Model, model, optimizers, Sequential, setBackend, tensor, toMemory, type Tensor } from '../src/index.js';
import { assertClose, randomArray, rejects, throws } from './helpers.js';
import { checkModelGradients, TOL } from './layer-check.js';

test('Add and Concatenate applied to Tensors run at once: hand-computed values', () => {
  const a = tensor(Float32Array.of(1, 2, 3, 4), [2, 2]);
  const b = tensor(Float32Array.of(10, 20, 30, 40), [2, 2]);
  assert.equal(Array.from(new layers.Add().apply([a, b]).values), [11, 22, 33, 44]);
  const c = new layers.Concatenate({ axis: 1 }).apply([a, b]);
  assert.equal([...c.shape], [2, 4]);
  assert.equal(Array.from(c.values), [1, 2, 10, 20, 3, 4, 30, 40]);
  // [1, 2, 2, 1] joined on the height axis with [1, 1, 2, 1]: rows of the second input come after.
  const x = tensor(Float32Array.of(1, 2, 3, 4), [1, 2, 2, 1]);
  const y = tensor(Float32Array.of(5, 6), [1, 1, 2, 1]);
  const h = new layers.Concatenate({ axis: 1 }).apply([x, y]);
  assert.equal([...h.shape], [1, 3, 2, 1]);
  assert.equal(Array.from(h.values), [1, 2, 3, 4, 5, 6]);
  const w = new layers.Concatenate({ axis: 2 }).apply([x, x]);
  assert.equal(Array.from(w.values), [1, 2, 1, 2, 3, 4, 3, 4]);
});

test('shape inference at apply time; errors name the layer and the shapes', () => {
  const x = input({ shape: [8, 8, 3] });
  const c = new layers.Conv2D({ filters: 4, kernelSize: 3, name: 'c4' }).apply(x);
  assert.equal(c.shape, [null, 6, 6, 4]);
  throws(() => new layers.Add({ name: 'bad_add' }).apply([x, c]), /Add 'bad_add': inputs must have one shape, got \(None, 8, 8, 3\), \(None, 6, 6, 4\)/);
  throws(() => new layers.Concatenate({ name: 'cat' }).apply([x, c]), /Concatenate 'cat': inputs must agree on every axis but axis -1, got \(None, 8, 8, 3\), \(None, 6, 6, 4\)/);
  throws(() => new layers.Concatenate({ axis: 0, name: 'cat0' }).apply([x, x]), /Concatenate 'cat0': axis 0 is out of range .*batch axis/);
  throws(() => new layers.Add({ name: 'one' }).apply([x]), /Add 'one': needs at least 2 inputs, got 1/);
  const conv = new layers.Conv2D({ filters: 3, kernelSize: 1, name: 'shared' });
  conv.apply(x);
  assert.equal(conv.apply(x).shape, [null, 8, 8, 3], 'a second call shares the layer');
  throws(() => conv.apply(c), /Conv2D 'shared': already built for input \(None, 8, 8, 3\), cannot take \(None, 6, 6, 4\)/);
  throws(() => conv.output, /Conv2D 'shared': the layer is called 2 times, so it has several outputs/);
  throws(() => new layers.Dense({ units: 2, name: 'd' }).apply([x, x]), /Dense 'd': takes one input, got 2/);
  throws(() => new Sequential().add(new layers.Add()), /Sequential.add: Add '.*' merges several inputs/);
  const other = input({ shape: [8, 8, 3], name: 'other' });
  throws(() => model({ inputs: x, outputs: new layers.Add().apply([x, other]) }), /Model: the outputs depend on input 'other', which is not among the model's inputs/);
  throws(() => model({ inputs: x, outputs: c, name: 'm', foo: 1 } as never), /Model: unknown option 'foo'/);
  throws(() => model({ inputs: [x, other], outputs: c }), /Model: input 'other' is not used by the outputs/);
  throws(() => model({ inputs: [x, x], outputs: c }), /Model: input '.*' is listed twice among the inputs/);
});

/** x → conv1 → conv2 → add(conv2, conv1) → concat(axis 2)(add, conv1) → concat(-1)(·, ·) → flatten → dense. */
function graph(): Model {
  const x = input({ shape: [4, 4, 2], name: 'x' });
  const c1 = new layers.Conv2D({ filters: 2, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'conv1' }).apply(x);
  const c2 = new layers.Conv2D({ filters: 2, kernelSize: 3, padding: 'same', name: 'conv2' }).apply(c1);
  const sum = new layers.Add({ name: 'add' }).apply([c2, c1]);
  const wide = new layers.Concatenate({ axis: 2, name: 'cat_w' }).apply([sum, c1]);
  const pooled = new layers.AveragePooling2D({ poolSize: 2, name: 'pool' }).apply(wide);
  const deep = new layers.Conv2D({ filters: 3, kernelSize: 1, name: 'conv3' }).apply(pooled);
  const both = new layers.Concatenate({ name: 'cat_c' }).apply([deep, pooled]);
  const out = new layers.Dense({ units: 3, name: 'dense' }).apply(new layers.Flatten({ name: 'flat' }).apply(both));
  return new Model({ inputs: x, outputs: out, name: 'g' });
}

test('Keras layer order, summary with Connected to, Keras weight order', () => {
  const m = graph();
  assert.equal(m.layers.map((l) => l.name), ['x', 'conv1', 'conv2', 'add', 'cat_w', 'pool', 'conv3', 'cat_c', 'flat', 'dense']);
  const s = m.summary({ print: false });
  assert.match(s, /add \(Add\)\s+\(None, 4, 4, 2\)\s+0\s+conv2\[0\]\[0\]\n\s+conv1\[0\]\[0\]/);
  assert.match(s, /cat_w \(Concatenate\)\s+\(None, 4, 8, 2\)\s+0\s+add\[0\]\[0\]/);
  // conv1 38 + conv2 38 + conv3 (1·1·2·3 + 3) 9 + dense (2·4·5·3 + 3) 123
  assert.match(s, /Total params: 208\n/);
  assert.equal(m.params().map((p) => p.name), ['conv1/kernel', 'conv1/bias', 'conv2/kernel', 'conv2/bias', 'conv3/kernel', 'conv3/bias', 'dense/kernel', 'dense/bias']);
});

for (const backend of ['reference', 'cpu'] as const) {
  test(`[${backend}] gradient of a whole graph (fan-out into Add, Concatenate on axes 2 and -1) vs central differences`, async () => {
    setBackend(backend);
    try {
      const m = graph();
      const x = tensor(randomArray(3 * 32, 11, -1, 1), [3, 4, 4, 2]);
      const y = tensor(randomArray(9, 12, -1, 1), [3, 3]);
      m.setWeights(m.getWeights().map((w, i) => tensor(randomArray(w.size, 40 + i, -0.5, 0.5), [...w.shape])));
      await checkModelGradients(backend, m, x, y, 1e-2);
    } finally {
      setBackend('cpu');
    }
  });
}

test('frozen layers get no updates in fit (functional and Sequential); summary counts them non-trainable', async () => {
  const m = graph();
  m.getLayer('conv1').trainable = false;
  assert.is(m.getLayer(1).name, 'conv1');
  throws(() => m.getLayer('nope'), /getLayer: model 'g' has no layer named "nope"/);
  assert.match(m.summary({ print: false }), /Non-trainable params: 38\n/);
  m.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'meanSquaredError' });
  const x = tensor(randomArray(8 * 32, 3, -1, 1), [8, 4, 4, 2]);
  const y = tensor(randomArray(24, 4, -1, 1), [8, 3]);
  const before = m.getWeights();
  await m.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
  const after = m.getWeights();
  m.params().forEach((p, i) => {
    const changed = after[i].values.some((v, k) => v !== before[i].values[k]);
    assert.is(changed, !p.name.startsWith('conv1/'), `${p.name} ${changed ? 'changed' : 'unchanged'}`);
  });
  m.getLayer('conv1').trainable = true;
  await m.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
  assert.ok(m.getWeights()[0].values.some((v, k) => v !== after[0].values[k]), 'conv1 trains again once unfrozen');

  const s = new Sequential();
  s.add(new layers.Dense({ units: 3, inputShape: [4], name: 'frozen_dense' }));
  s.add(new layers.Dense({ units: 1 }));
  s.layers[0].trainable = false;
  s.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  const sx = tensor(randomArray(32, 5, -1, 1), [8, 4]);
  const sy = tensor(randomArray(8, 6, -1, 1), [8, 1]);
  const k0 = s.getWeights();
  await s.fit(sx, sy, { epochs: 2, verbose: 0 });
  const k1 = s.getWeights();
  assert.equal(Array.from(k1[0].values), Array.from(k0[0].values), 'Sequential: frozen kernel unchanged');
  assert.ok(k1[2].values.some((v, i) => v !== k0[2].values[i]), 'Sequential: the other layer trains');
});

for (const backend of ['reference', 'cpu'] as const) {
  test(`[${backend}] BatchNormalization with trainable=false runs in inference mode in fit: moving statistics kept, outputs as inference`, async () => {
    setBackend(backend);
    try {
      const s = new Sequential();
      s.add(new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', inputShape: [6, 6, 2] }));
      s.add(new layers.BatchNormalization({ name: 'bn' }));
      s.add(new layers.Activation({ activation: 'relu' }));
      s.add(new layers.MaxPooling2D({ poolSize: 2 }));
      s.add(new layers.Flatten());
      s.add(new layers.Dense({ units: 1 }));
      const bn = s.getLayer('bn');
      const ws = s.getWeights();
      // Moving statistics away from 0 / 1, so inference differs from batch statistics.
      ws[4] = tensor(Float32Array.of(0.3, -0.2, 0.1, 0.5), [4]);
      ws[5] = tensor(Float32Array.of(2, 0.5, 1.5, 3), [4]);
      s.setWeights(ws);
      bn.trainable = false;
      assert.ok(s.fusionPlan('training').every((u) => u.op !== 'batchNormActPool.train'), 'a frozen BN is not fused with batch statistics');
      s.compile({ optimizer: new optimizers.SGD({ learningRate: 0.05 }), loss: 'meanSquaredError' });
      const x = tensor(randomArray(8 * 72, 9, -1, 1), [8, 6, 6, 2]);
      const y = tensor(randomArray(8, 10, -1, 1), [8, 1]);
      const logs = await s.trainOnBatch(x, y);
      const after = s.getWeights();
      for (const i of [2, 3, 4, 5]) assert.equal(Array.from(after[i].values), Array.from(ws[i].values), `BN weight ${i} unchanged`);
      assert.ok(after[0].values.some((v, k) => v !== ws[0].values[k]), 'the convolution before it trains');
      assert.ok(Number.isFinite(logs.loss));
      // The training-mode loss equals the inference loss of the same weights (BN used its moving statistics).
      s.setWeights(ws);
      const inference = (await s.evaluate(x, y)).loss;
      const train = (await s.trainOnBatch(x, y)).loss;
      assertClose([train], [inference], { atol: 1e-6, rtol: 1e-5 }, 'training loss = inference loss');
    } finally {
      setBackend('cpu');
    }
  });
}

test('trainable is saved in the config and read back; save → loadModel of a functional model predicts the same', async () => {
  const m = graph();
  m.getLayer('conv2').trainable = false;
  const x = tensor(randomArray(2 * 32, 21, -1, 1), [2, 4, 4, 2]);
  const p0 = (await m.predict(x)) as Tensor;
  const { modelJSON, weights } = toMemory(m);
  const topo = modelJSON.modelTopology as { class_name: string; config: { layers: { name: string; config: { trainable?: boolean }; inbound_nodes: unknown[] }[]; input_layers: unknown; output_layers: unknown } };
  assert.is(topo.class_name, 'Functional');
  assert.equal(topo.config.input_layers, [['x', 0, 0]]);
  assert.equal(topo.config.output_layers, [['dense', 0, 0]]);
  assert.equal(topo.config.layers.find((l) => l.name === 'add')!.inbound_nodes, [[['conv2', 0, 0, {}], ['conv1', 0, 0, {}]]]);
  assert.is(topo.config.layers.find((l) => l.name === 'conv2')!.config.trainable, false);
  const back = await loadModel({ modelJSON, weights });
  assert.ok(back instanceof Model);
  assert.equal(back.layers.map((l) => l.name), m.layers.map((l) => l.name));
  assert.is(back.getLayer('conv2').trainable, false);
  assert.equal(Array.from(((await back.predict(x)) as Tensor).values), Array.from(p0.values));
  // The loaded graph is the same graph with the same weights: the same ONNX bytes (ONNX Runtime checks: test/onnx-functional.test.ts).
  assert.is(Buffer.compare(await toOnnx(back), await toOnnx(m)), 0, 'loaded model exports the same ONNX bytes');
});

test('getLayer(...).output continues a loaded graph: a new head on a frozen base', async () => {
  const m = graph();
  const { modelJSON, weights } = toMemory(m);
  const base = (await loadModel({ modelJSON, weights })) as Model;
  for (const l of base.layers) l.trainable = false;
  const head = new layers.Dense({ units: 2, activation: 'softmax', name: 'head' }).apply(base.getLayer('flat').output);
  const tuned = model({ inputs: base.inputs, outputs: head });
  assert.is(tuned.layers[tuned.layers.length - 1].name, 'head');
  tuned.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  const x = tensor(randomArray(4 * 32, 1, -1, 1), [4, 4, 4, 2]);
  const y = tensor(Float32Array.of(1, 0, 0, 1, 1, 0, 0, 1), [4, 2]);
  const before = tuned.getWeights();
  await tuned.fit(x, y, { epochs: 2, verbose: 0 });
  const after = tuned.getWeights();
  tuned.params().forEach((p, i) => assert.is(after[i].values.some((v, k) => v !== before[i].values[k]), p.name.startsWith('head/'), p.name));
});

test('fusion where the graph allows it: a single-consumer Conv2D → BN → relu → MaxPooling2D run fuses; a fan-out stops it', async () => {
  setBackend('cpu');
  const x = input({ shape: [8, 8, 3] });
  const c = new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', name: 'fc' }).apply(x);
  const b = new layers.BatchNormalization({ name: 'fbn' }).apply(c);
  const r = new layers.Activation({ activation: 'relu', name: 'frelu' }).apply(b);
  const p = new layers.MaxPooling2D({ poolSize: 2, name: 'fpool' }).apply(r);
  const side = new layers.Conv2D({ filters: 4, kernelSize: 1, name: 'side' }).apply(p);
  const sum = new layers.Add({ name: 'fadd' }).apply([p, side]);
  const m = model({ inputs: x, outputs: new layers.Dense({ units: 2, name: 'fd' }).apply(new layers.Flatten().apply(sum)) });
  const plan = (mode: 'training' | 'inference') => m.fusionPlan(mode).map((u) => `${u.layers.map((l) => l.name).join('+')}:${u.op}`);
  assert.ok(plan('inference').includes('fc+fbn+frelu+fpool:conv.conv2dMaxPool'), plan('inference').join(', '));
  assert.ok(plan('training').includes('fbn+frelu+fpool:batchNormActPool.train'), plan('training').join(', '));
  const xs = tensor(randomArray(2 * 192, 77, -1, 1), [2, 8, 8, 3]);
  m.setWeights(m.getWeights().map((w, i) => (m.params()[i].name.includes('moving_variance') ? tensor(Float32Array.from(w.values, (_, k) => 0.5 + k / 8), [...w.shape]) : w)));
  const fused = await m.predict(xs);
  setBackend('reference');
  try {
    assertClose(fused.values, (await m.predict(xs)).values, { atol: 1e-5, rtol: 1e-4 }, 'fused cpu graph vs reference');
  } finally {
    setBackend('cpu');
  }
  // The BN output feeding two layers: no run through it.
  const x2 = input({ shape: [8, 8, 3] });
  const b2 = new layers.BatchNormalization({ name: 'bn2' }).apply(new layers.Conv2D({ filters: 3, kernelSize: 3, padding: 'same', name: 'c2' }).apply(x2));
  const both = new layers.Add().apply([new layers.MaxPooling2D({ name: 'p2' }).apply(b2), new layers.MaxPooling2D({ name: 'p3' }).apply(b2)]);
  const m2 = model({ inputs: x2, outputs: both });
  assert.ok(m2.fusionPlan('inference').every((u) => !u.layers.some((l) => l.name === 'bn2') || u.layers.length <= 2), 'bn2 ends its run');
  assert.ok(m2.fusionPlan('inference').some((u) => u.layers.map((l) => l.name).join('+') === 'c2+bn2'), m2.fusionPlan('inference').map((u) => u.layers.map((l) => l.name).join('+')).join(', '));
});

test('input({ batchSize }) is enforced: a batch of another size throws naming the input, before any update', async () => {
  const x = input({ shape: [3], batchSize: 2, name: 'fixed' });
  const m = model({ inputs: x, outputs: new layers.Dense({ units: 1, name: 'd_fixed' }).apply(x) });
  const xs = tensor(Float32Array.from({ length: 12 }, (_, i) => i / 12), [4, 3]);
  assert.is(((await m.predict(xs, { batchSize: 2 })) as Tensor).shape[0], 4);
  await rejects(m.predict(xs, { batchSize: 3 }), /Model 'model': input 'fixed' has a fixed batch size of 2 \(input\(\{ batchSize \}\)\), got a batch of 3/);
  m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  const w0 = m.getWeights().map((w) => Array.from(w.values));
  await rejects(m.trainOnBatch(xs, tensor(new Float32Array(4), [4, 1])), /input 'fixed' has a fixed batch size of 2 .*got a batch of 4/);
  assert.equal(m.getWeights().map((w) => Array.from(w.values)), w0, 'nothing trained');
});

test('fit with the training doctor on a graph whose BatchNormalization sits inside a fused run: the probe gets that layer\'s output', async () => {
  const x = input({ shape: [8, 8, 3] });
  const conv = new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }).apply(x);
  const bn = new layers.BatchNormalization({ name: 'bn' }).apply(conv);
  const act = new layers.Activation({ activation: 'relu' }).apply(bn);
  const pooled = new layers.MaxPooling2D({ poolSize: 2 }).apply(act);
  const skip = new layers.Conv2D({ filters: 4, kernelSize: 2, strides: 2, name: 'skip' }).apply(x);
  const sum = new layers.Add().apply([pooled, skip]);
  const out = new layers.Dense({ units: 1, activation: 'sigmoid' }).apply(new layers.GlobalAveragePooling2D().apply(sum));
  const m = model({ inputs: x, outputs: out });
  m.compile({ optimizer: new optimizers.SGD({ learningRate: 0.01 }), loss: 'binaryCrossentropy' });
  const xs = tensor(randomArray(6 * 8 * 8 * 3, 31), [6, 8, 8, 3]);
  // The doctor probes BatchNormalization's input statistics through forwardPrefix; it used to read
  // a value that the fused Conv2D → BatchNormalization → relu → pool run never stores.
  const h = await m.fit(xs, tensor([0, 1, 0, 1, 1, 0], [6, 1]), { epochs: 1, batchSize: 3, verbose: 0 });
  assert.ok(Number.isFinite(h.history.loss[0] as number));
  const bnLayer = m.getLayer('bn');
  const prefix = m.layers.slice(0, m.layers.indexOf(bnLayer) + 1);
  const probed = (m as unknown as { forwardPrefix(l: unknown, x: Tensor): Tensor }).forwardPrefix(prefix, xs);
  const direct = (await model({ inputs: x, outputs: bn }).predict(xs)) as Tensor;
  assert.equal(probed.shape, [6, 8, 8, 4]);
  assertClose(probed.values, direct.values, TOL, 'forwardPrefix up to bn = a model ending at bn');
});

test.run();
