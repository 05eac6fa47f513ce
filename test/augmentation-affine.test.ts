// RandomRotation, RandomZoom and RandomContrast: hand-computed cases (rotation by exactly 90°, zoom
// factor 0 = identity, zoom in 2×, the contrast factor math), identity in inference, the seed's
// determinism, central-difference gradient checks, gradients reaching the layers before in fit,
// save → load (TF.js LayersModel JSON with Keras' class names, and a Keras 3 config), bad options.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { layers, loadModel, optimizers, Sequential, setBackend, tensor, type Tensor } from '../src/index.js';
import type { ModelJSON } from '../src/io/index.js';
import { toMemory } from '../src/io/index.js';
import type { Layer } from '../src/layers/index.js';
import { Random } from '../src/util/random.js';
import { assertClose, randomArray, throws } from './helpers.js';
import { checkLayer, prepare } from './layer-check.js';

const TOL = { atol: 1e-5, rtol: 1e-5 };
const train = (layer: Layer, x: Tensor, seed = 0): Tensor => layer.forward(x, { training: true, rng: new Random(seed) });
const built = <L extends Layer>(layer: L, shape: number[]): L => {
  layer.build(shape);
  return layer;
};

test('RandomRotation factor [0.25, 0.25] on [2,4,4,2]: every image turned by exactly 90°, y[i][j] = x[j][3 − i]; backward turns dy back', () => {
  const layer = built(new layers.RandomRotation({ factor: [0.25, 0.25] }), [4, 4, 2]);
  const x = tensor(randomArray(64, 1), [2, 4, 4, 2]);
  const y = train(layer, x);
  const want = new Float32Array(64);
  const dxWant = new Float32Array(64);
  const dy = randomArray(64, 2);
  for (let n = 0; n < 2; n++) {
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        for (let c = 0; c < 2; c++) {
          want[((n * 4 + i) * 4 + j) * 2 + c] = x.values[((n * 4 + j) * 4 + 3 - i) * 2 + c];
          dxWant[((n * 4 + j) * 4 + 3 - i) * 2 + c] = dy[((n * 4 + i) * 4 + j) * 2 + c];
        }
      }
    }
  }
  assertClose(y.values, want, TOL, 'y');
  assertClose(layer.backward(tensor(dy, [2, 4, 4, 2]), true)!.values, dxWant, TOL, 'dx');
});

test('RandomZoom factor 0 is the identity in every fill mode and interpolation; zoom in 2× on a row interpolates by hand', () => {
  const x = tensor(randomArray(2 * 5 * 6 * 3, 3), [2, 5, 6, 3]);
  for (const fillMode of ['reflect', 'wrap', 'constant', 'nearest'] as const) {
    for (const interpolation of ['bilinear', 'nearest'] as const) {
      const layer = built(new layers.RandomZoom({ heightFactor: 0, widthFactor: [0, 0], fillMode, interpolation, fillValue: 9 }), [5, 6, 3]);
      assertClose(train(layer, x).values, x.values, TOL, `${fillMode}/${interpolation}`);
    }
  }
  // Width zoom 0.5 on a 1 × 5 row: source column 0.5·j + 1 → 1, 1.5, 2, 2.5, 3.
  const zoomIn = built(new layers.RandomZoom({ heightFactor: 0, widthFactor: [-0.5, -0.5] }), [1, 5, 1]);
  assertClose(train(zoomIn, tensor([0, 10, 20, 30, 40], [1, 1, 5, 1])).values, [10, 15, 20, 25, 30], TOL, 'zoom in');
  // Zoom out 2× with constant fill 100: source column 2j − 2 → fill, 0, 20, 40, fill.
  const zoomOut = built(new layers.RandomZoom({ heightFactor: 0, widthFactor: [1, 1], fillMode: 'constant', fillValue: 100 }), [1, 5, 1]);
  assertClose(train(zoomOut, tensor([0, 10, 20, 30, 40], [1, 1, 5, 1])).values, [100, 0, 20, 40, 100], TOL, 'zoom out');
});

test('RandomContrast: y = clip((x − mean)·f + mean) with one f per image in [1 − lower, 1 + upper], every channel about its own mean', () => {
  const layer = built(new layers.RandomContrast({ factor: [0.5, 0.5], valueRange: [-10, 10] }), [3, 2, 2]);
  const x = tensor(randomArray(4 * 12, 4), [4, 3, 2, 2]);
  const y = train(layer, x).values;
  const factors = new Set<string>();
  for (let n = 0; n < 4; n++) {
    const mean = [0, 1].map((c) => Array.from({ length: 6 }, (_, p) => x.values[n * 12 + p * 2 + c]).reduce((s, v) => s + v, 0) / 6);
    const f = (y[n * 12] - mean[0]) / (x.values[n * 12] - mean[0]);
    assert.ok(f >= 0.5 && f <= 1.5, `factor ${f} in [0.5, 1.5]`);
    factors.add(f.toFixed(4));
    const want = Array.from({ length: 12 }, (_, k) => (x.values[n * 12 + k] - mean[k % 2]) * f + mean[k % 2]);
    assertClose(y.subarray(n * 12, n * 12 + 12), want, { atol: 1e-5, rtol: 1e-4 }, `image ${n}`);
  }
  assert.is(factors.size, 4, 'one factor per image');
  const clipped = built(new layers.RandomContrast({ factor: [0, 3] }), [3, 2, 2]);
  const yc = train(clipped, tensor(randomArray(48, 5, -100, 400), [4, 3, 2, 2])).values;
  assert.ok(yc.every((v) => v >= 0 && v <= 255), 'clipped to the default valueRange [0, 255]');
  assert.ok(yc.some((v) => v === 0) && yc.some((v) => v === 255), 'both bounds reached');
});

test('identity in inference (predict) for all three; training (fit) changes what the next layer sees', async () => {
  const m = new Sequential();
  m.add(new layers.RandomRotation({ factor: 0.2, inputShape: [6, 6, 2] }));
  m.add(new layers.RandomZoom({ heightFactor: 0.3 }));
  m.add(new layers.RandomContrast({ factor: 0.4 }));
  const x = tensor(randomArray(3 * 72, 6, 0, 1), [3, 6, 6, 2]);
  assert.equal(Array.from((await m.predict(x)).values), Array.from(x.values));
  const y = m.layers.reduce((t, l) => l.forward(t, { training: true, rng: new Random(3) }), x as Tensor);
  assert.ok(y.values.some((v, i) => Math.abs(v - x.values[i]) > 1e-3), 'training forward transforms');
});

test('the seed: same seed → same draws, call after call; another seed → other draws', () => {
  const x = tensor(randomArray(2 * 36, 7), [2, 6, 6, 1]);
  const make = [
    (seed: number) => new layers.RandomRotation({ factor: 0.5, seed }),
    (seed: number) => new layers.RandomZoom({ heightFactor: 0.5, widthFactor: 0.5, seed }),
    (seed: number) => new layers.RandomContrast({ factor: 0.5, seed, valueRange: [-5, 5] }),
  ];
  for (const f of make) {
    const [p, q, r] = [f(11), f(11), f(12)].map((l) => built(l, [6, 6, 1]));
    for (let call = 0; call < 2; call++) {
      const yp = Array.from(train(p, x, call).values);
      assert.equal(Array.from(train(q, x, 100 + call).values), yp, `${p.className} call ${call}: same seed`);
      assert.not.equal(Array.from(train(r, x, call).values), yp, `${p.className} call ${call}: other seed`);
    }
  }
});

for (const backend of ['reference', 'cpu'] as const) {
  test(`[${backend}] gradient checks (central differences): rotation, zoom, contrast in several fill modes`, () => {
    setBackend(backend);
    try {
      const shape = [2, 5, 4, 2];
      const x = randomArray(80, 8);
      const cases: [string, Layer][] = [
        ['rotation reflect/bilinear', new layers.RandomRotation({ factor: 0.3 })],
        ['rotation constant/bilinear', new layers.RandomRotation({ factor: [0.1, 0.4], fillMode: 'constant', fillValue: 0.7 })],
        ['rotation wrap/nearest', new layers.RandomRotation({ factor: 0.3, fillMode: 'wrap', interpolation: 'nearest' })],
        ['zoom nearest/bilinear', new layers.RandomZoom({ heightFactor: [-0.4, 0.5], widthFactor: 0.3, fillMode: 'nearest' })],
        ['zoom reflect/bilinear', new layers.RandomZoom({ heightFactor: 0.6 })],
        ['contrast', new layers.RandomContrast({ factor: [0.6, 0.9], valueRange: [-50, 50] })],
        ['contrast clipping', new layers.RandomContrast({ factor: [0, 0.9], valueRange: [-0.4, 0.45] })],
      ];
      for (const [what, layer] of cases) {
        prepare(layer, shape, 1);
        checkLayer(`${backend} ${what}`, layer, x, shape, { h: 1e-3 });
      }
    } finally {
      setBackend('cpu');
    }
  });
}

test('[gpu:webasm] the three layers through the gpu backend: forward and backward equal the reference', () => {
  const x = tensor(randomArray(3 * 6 * 5 * 2, 12, 0, 1), [3, 6, 5, 2]);
  const dy = tensor(randomArray(x.size, 13), [3, 6, 5, 2]);
  const run = (): number[][] => [
    new layers.RandomRotation({ factor: 0.3, seed: 1, fillMode: 'wrap' }),
    new layers.RandomZoom({ heightFactor: 0.4, seed: 2, fillMode: 'constant', fillValue: 0.5 }),
    new layers.RandomContrast({ factor: 0.5, seed: 3, valueRange: [0.1, 0.9] }),
  ].flatMap((layer) => {
    built(layer, [6, 5, 2]);
    const y = train(layer, x);
    return [Array.from(y.values), Array.from(layer.backward(dy, true)!.values)];
  });
  setBackend('reference');
  const want = run();
  setBackend('gpu', { mode: 'webasm' });
  try {
    run().forEach((got, k) => assertClose(got, want[k], { atol: 1e-4, rtol: 1e-4 }, `${['rotation', 'zoom', 'contrast'][k >> 1]} ${k % 2 ? 'dx' : 'y'}`));
  } finally {
    setBackend('cpu');
  }
});

test('gradients pass through the augmentation to the layers before it in fit', async () => {
  const m = new Sequential();
  m.add(new layers.Conv2D({ filters: 2, kernelSize: 3, padding: 'same', inputShape: [6, 6, 1], name: 'conv' }));
  m.add(new layers.RandomRotation({ factor: 0.1, fillMode: 'constant' }));
  m.add(new layers.RandomZoom({ heightFactor: 0.2 }));
  m.add(new layers.RandomContrast({ factor: 0.2, valueRange: [-100, 100] }));
  m.add(new layers.Flatten());
  m.add(new layers.Dense({ units: 2 }));
  m.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'meanSquaredError' });
  const before = m.getWeights()[0].values.slice();
  await m.fit(tensor(randomArray(8 * 36, 9), [8, 6, 6, 1]), tensor(randomArray(16, 10), [8, 2]), { epochs: 1, batchSize: 4, verbose: 0 });
  assert.ok(m.getWeights()[0].values.some((v, i) => v !== before[i]), 'conv kernel updated');
});

test('augmentation ahead of every trained layer: no backward runs below the first trained layer (the resampling adjoint would be dropped)', async () => {
  const m = new Sequential();
  m.add(new layers.Rescaling({ scale: 1 / 255, inputShape: [6, 6, 1] }));
  const rotation = new layers.RandomRotation({ factor: 0.1 });
  m.add(rotation);
  m.add(new layers.Conv2D({ filters: 2, kernelSize: 3, name: 'conv' }));
  m.add(new layers.Flatten());
  m.add(new layers.Dense({ units: 2 }));
  m.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'meanSquaredError' });
  const asked: boolean[] = [];
  const backward = rotation.backward.bind(rotation);
  rotation.backward = (dy, needInputGrad) => {
    asked.push(needInputGrad);
    return backward(dy, needInputGrad);
  };
  const before = m.getWeights()[0].values.slice();
  await m.fit(tensor(randomArray(8 * 36, 11), [8, 6, 6, 1]), tensor(randomArray(16, 12), [8, 2]), { epochs: 1, batchSize: 4, verbose: 0 });
  assert.equal(asked, [], 'the rotation\'s backward ran: the conv above it was asked for an input gradient');
  assert.ok(m.getWeights()[0].values.some((v, i) => v !== before[i]), 'conv kernel updated');
});

test('save → load: Keras class names and configs round trip, predictions equal; a Keras 3 config loads', async () => {
  const m = new Sequential();
  m.add(new layers.RandomRotation({ factor: [-0.1, 0.2], fillMode: 'constant', fillValue: 0.5, interpolation: 'nearest', seed: 4, inputShape: [6, 6, 2], name: 'rot' }));
  m.add(new layers.RandomZoom({ heightFactor: 0.3, fillMode: 'wrap', name: 'zoom' }));
  m.add(new layers.RandomContrast({ factor: [0.2, 0.5], valueRange: [0, 1], seed: 9, name: 'contrast' }));
  m.add(new layers.Flatten());
  m.add(new layers.Dense({ units: 2 }));
  const { modelJSON, weights } = toMemory(m);
  const entries = (modelJSON.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers;
  assert.equal(entries.slice(0, 3).map((e) => e.class_name), ['RandomRotation', 'RandomZoom', 'RandomContrast']);
  assert.equal(entries[0].config.fill_mode, 'constant');
  assert.equal(entries[1].config.width_factor, null);
  assert.equal(entries[2].config.value_range, [0, 1]);
  const loaded = await loadModel({ modelJSON, weights });
  loaded.layers.slice(0, 3).forEach((l, i) => assert.equal(l.getConfig(), m.layers[i].getConfig(), l.className));
  const x = tensor(randomArray(2 * 72, 11, 0, 1), [2, 6, 6, 2]);
  assert.equal(Array.from(((await loaded.predict(x)) as Tensor).values), Array.from(((await m.predict(x)) as Tensor).values));

  const keras3 = {
    format: 'layers-model',
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 'k3',
        layers: [
          { class_name: 'RandomRotation', config: { name: 'r', trainable: true, dtype: 'float32', batch_input_shape: [null, 4, 4, 3], factor: 0.1, fill_mode: 'reflect', interpolation: 'bilinear', seed: null, fill_value: 0, data_format: 'channels_last' } },
          { class_name: 'RandomZoom', config: { name: 'z', trainable: true, height_factor: [-0.2, 0.1], width_factor: 0.3, fill_mode: 'nearest', interpolation: 'bilinear', seed: 3, fill_value: 0, data_format: 'channels_last' } },
          { class_name: 'RandomContrast', config: { name: 'c', trainable: true, factor: 0.25, value_range: [0, 255], seed: null, data_format: 'channels_last' } },
        ],
      },
    },
    weightsManifest: [{ paths: ['weights.bin'], weights: [] }],
  } as unknown as ModelJSON;
  const k = await loadModel({ modelJSON: keras3, weights: new ArrayBuffer(0) });
  assert.equal(k.layers.map((l) => [l.className, l.name]), [['RandomRotation', 'r'], ['RandomZoom', 'z'], ['RandomContrast', 'c']]);
  const cfg = k.layers.map((l) => l.getConfig());
  assert.equal([cfg[0].factor, cfg[1].heightFactor, cfg[1].widthFactor, cfg[1].seed, cfg[2].factor], [[-0.1, 0.1], [-0.2, 0.1], [-0.3, 0.3], 3, [0.25, 0.25]]);
});

test('bad options: clear errors naming the layer and the values', () => {
  throws(() => new layers.RandomRotation({ factor: [0.2, 0.1], name: 'r' }), /RandomRotation 'r': factor must be a number or \[lower, upper\] with lower ≤ upper, got \[0.2,0.1\]/);
  throws(() => new layers.RandomRotation({ factor: Number.NaN }), /RandomRotation '.*': factor must be .* got null/);
  throws(() => new layers.RandomRotation({ factor: 0.1, fillMode: 'mirror' as never }), /fillMode must be one of 'reflect', 'wrap', 'constant', 'nearest', got "mirror"/);
  throws(() => new layers.RandomRotation({ factor: 0.1, interpolation: 'bicubic' as never }), /interpolation must be 'bilinear' or 'nearest', got "bicubic"/);
  throws(() => new layers.RandomRotation({ factor: 0.1, fillValue: Number.POSITIVE_INFINITY }), /fillValue must be a finite number/);
  throws(() => new layers.RandomRotation({ factor: 0.1, angle: 3 } as never), /RandomRotation: unknown option 'angle'/);
  throws(() => new layers.RandomZoom({ heightFactor: 1.5, name: 'z' }), /RandomZoom 'z': heightFactor must be .* in \[-1, 1\], got 1.5/);
  throws(() => new layers.RandomZoom({ heightFactor: 0.1, widthFactor: [0.5, -0.5] }), /widthFactor must be .* got \[0.5,-0.5\]/);
  throws(() => new layers.RandomContrast({ factor: -0.1, name: 'c' }), /RandomContrast 'c': factor must be a number or \[lower, upper\] with 0 ≤ lower ≤ 1 and upper ≥ 0, got -0.1/);
  throws(() => new layers.RandomContrast({ factor: [1.5, 0] }), /factor must be .* got \[1.5,0\]/);
  throws(() => new layers.RandomContrast({ factor: 0.1, valueRange: [1, 0] }), /valueRange must be \[low, high\] with low < high, got \[1,0\]/);
  throws(() => new layers.RandomContrast({ factor: 0.1, seed: 'x' as never }), /seed must be a finite number/);
  const m = new Sequential();
  throws(() => m.add(new layers.RandomZoom({ heightFactor: 0.1, inputShape: [4, 4] })), /RandomZoom '.*': expects input of shape \(None, height, width, channels\), got \(None, 4, 4\)/);
});

test.run();
