// The element-wise merge layers Subtract, Multiply, Average, Maximum and Minimum: hand-computed
// values on three inputs (two for Subtract), ties of Maximum / Minimum (the gradient goes to the
// earliest input, as TF), errors, a central-difference gradient check of a graph using all five on
// reference and cpu, and save → load (class names, summary's Connected to).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { input, layers, loadModel, Model, optimizers, setBackend, tensor, toMemory, type Tensor } from '../src/index.js';
import { assertClose, randomArray, throws } from './helpers.js';
import { checkModelGradients } from './layer-check.js';

const a = tensor(Float32Array.of(1, -2, 3, 4), [2, 2]);
const b = tensor(Float32Array.of(5, -2, -1, 2), [2, 2]);
const c = tensor(Float32Array.of(0.5, 7, 3, -8), [2, 2]);
const values = (t: Tensor) => Array.from(t.values);

test('Subtract, Multiply, Average, Maximum, Minimum applied to Tensors: hand-computed values', () => {
  assert.equal(values(new layers.Subtract().apply([a, b]) as Tensor), [-4, 0, 4, 2]);
  assert.equal(values(new layers.Multiply().apply([a, b, c]) as Tensor), [2.5, 28, -9, -64]);
  assertClose(values(new layers.Average().apply([a, b, c]) as Tensor), [6.5 / 3, 1, 5 / 3, -2 / 3], { atol: 1e-6, rtol: 1e-6 });
  assert.equal(values(new layers.Maximum().apply([a, b, c]) as Tensor), [5, 7, 3, 4]);
  assert.equal(values(new layers.Minimum().apply([a, b, c]) as Tensor), [0.5, -2, -1, -8]);
});

test('errors name the layer and the shapes; unknown options throw', () => {
  const x = input({ shape: [4] });
  const y = input({ shape: [3] });
  throws(() => new layers.Subtract({ name: 'sub' }).apply([x, x, x]), /Subtract 'sub': needs exactly 2 inputs, got 3/);
  throws(() => new layers.Multiply({ name: 'mul' }).apply([x]), /Multiply 'mul': needs at least 2 inputs, got 1/);
  throws(() => new layers.Maximum({ name: 'mx' }).apply([x, y]), /Maximum 'mx': inputs must have one shape, got \(None, 4\), \(None, 3\)/);
  throws(() => new layers.Average({ axis: 1 } as never), /Average: unknown option 'axis'/);
  throws(() => new layers.Minimum().forward(), /Minimum '.*': merges several inputs/);
});

/** x → dense_a, dense_b, dense_c; maximum(a, b, c) − minimum(a, b); multiply(that, c); average with a → dense out. */
function graph(): Model {
  const x = input({ shape: [5], name: 'x' });
  const da = new layers.Dense({ units: 4, name: 'dense_a' }).apply(x);
  const db = new layers.Dense({ units: 4, name: 'dense_b' }).apply(x);
  const dc = new layers.Dense({ units: 4, name: 'dense_c' }).apply(x);
  const mx = new layers.Maximum({ name: 'max' }).apply([da, db, dc]);
  const mn = new layers.Minimum({ name: 'min' }).apply([da, db]);
  const sub = new layers.Subtract({ name: 'sub' }).apply([mx, mn]);
  const mul = new layers.Multiply({ name: 'mul' }).apply([sub, dc, da]);
  const avg = new layers.Average({ name: 'avg' }).apply([mul, da]);
  const out = new layers.Dense({ units: 2, name: 'out' }).apply(avg);
  return new Model({ inputs: x, outputs: out, name: 'merges' });
}

for (const backend of ['reference', 'cpu'] as const) {
  test(`[${backend}] gradient of a graph of every merge vs central differences`, async () => {
    setBackend(backend);
    try {
      const m = graph();
      const x = tensor(randomArray(6 * 5, 21, -1, 1), [6, 5]);
      const y = tensor(randomArray(12, 22, -1, 1), [6, 2]);
      m.setWeights(m.getWeights().map((w, i) => tensor(randomArray(w.size, 60 + i, -0.8, 0.8), [...w.shape])));
      await checkModelGradients(backend, m, x, y, 1e-3);
    } finally {
      setBackend('cpu');
    }
  });
}

test('[gpu:webasm] a training step of the merge graph equals the reference\'s', async () => {
  const step = async (): Promise<Float32Array[]> => {
    const m = graph();
    m.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'meanSquaredError' });
    m.setWeights(m.getWeights().map((w, i) => tensor(randomArray(w.size, 80 + i, -0.8, 0.8), [...w.shape])));
    await m.trainOnBatch(tensor(randomArray(4 * 5, 31, -1, 1), [4, 5]), tensor(randomArray(8, 32, -1, 1), [4, 2]));
    return m.getWeights().map((w) => w.values.slice());
  };
  setBackend('reference');
  const want = await step();
  setBackend('gpu', { mode: 'webasm' });
  try {
    (await step()).forEach((w, i) => assertClose(w, want[i], { atol: 1e-5, rtol: 1e-4 }, `weight ${i}`));
  } finally {
    setBackend('cpu');
  }
});

test('Maximum / Minimum ties: the gradient goes to the earliest input holding the extremum', () => {
  const x = input({ shape: [3], name: 'x' });
  const y = input({ shape: [3], name: 'y' });
  const z = input({ shape: [3], name: 'z' });
  for (const Merge of [layers.Maximum, layers.Minimum]) {
    const layer = new Merge();
    layer.apply([x, y, z]);
    const xs = [Float32Array.of(1, 2, 3), Float32Array.of(1, 5, 3), Float32Array.of(0, 5, 3)].map((v) => tensor(v, [1, 3]));
    layer.callForward(xs, { training: true, rng: undefined as never });
    const dxs = layer.callBackward(tensor(Float32Array.of(10, 20, 30), [1, 3]), true).map((d) => Array.from(d!.values));
    // Column 0: max 1 tied by x, y → x; min 0 → z. Column 1: max 5 tied by y, z → y; min 2 → x. Column 2: all tie → x.
    const want = Merge === layers.Maximum ? [[10, 0, 30], [0, 20, 0], [0, 0, 0]] : [[0, 20, 30], [0, 0, 0], [10, 0, 0]];
    assert.equal(dxs, want, Merge.name);
  }
});

test('save → load keeps the merges (class names, graph, predictions); summary connects every input', async () => {
  const m = graph();
  const s = m.summary({ print: false });
  assert.match(s, /max \(Maximum\)\s+\(None, 4\)\s+0\s+dense_a\[0\]\[0\]\n\s+dense_b\[0\]\[0\]\n\s+dense_c\[0\]\[0\]/);
  assert.match(s, /sub \(Subtract\)\s+\(None, 4\)\s+0\s+max\[0\]\[0\]\n\s+min\[0\]\[0\]/);
  const { modelJSON, weights } = toMemory(m);
  const classes = (modelJSON.modelTopology as { config: { layers: { class_name: string }[] } }).config.layers.map((l) => l.class_name);
  for (const name of ['Maximum', 'Minimum', 'Subtract', 'Multiply', 'Average']) assert.ok(classes.includes(name), `${name} saved`);
  const loaded = await loadModel({ modelJSON, weights });
  assert.equal(loaded.layers.map((l) => l.className), m.layers.map((l) => l.className));
  const x = tensor(randomArray(3 * 5, 30, -1, 1), [3, 5]);
  assert.equal(Array.from(((await loaded.predict(x)) as Tensor).values), Array.from(((await m.predict(x)) as Tensor).values));
});

test.run();
