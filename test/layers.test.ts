// Backend ops against naive float64 implementations written here, run over every backend in
// listBackends() (one test body per op, looped: new backends get the same tests), plus layer
// forward golden cases and shape inference.
//
// Tolerances for the op comparisons: the backends accumulate in float32 while the references
// sum in float64. Each float32 addition into a partial sum of size ~sqrt(K)·σ (σ ≈ 1/3 for
// products of U(-1, 1) values) rounds by ~6e-8 of it, and K such errors random-walk to about
// K·σ·6e-8 ≈ 2e-8·K. So the absolute tolerance scales with the reduction length K:
// atol = max(1e-5, 1e-7·K), five times that estimate (3e-3 for the 30 720-term filter gradient
// of the chunked case, whose entries are sums of magnitude up to ~60), with rtol 1e-4. An
// indexing bug (a wrong pad, stride or layout) produces errors of order 0.1 to 10.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBackend, listBackends, type Backend } from '../src/backend/index.js';
import { conv2dInfo, type Conv2DInfo, type Padding } from '../src/geometry.js';
import { BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D } from '../src/layers/index.js';
import { Random } from '../src/util/random.js';
import { tensor } from '../src/tensor.js';
import { assertClose, backendTest, randomArray, type Tolerance } from './helpers.js';

/** Tolerance for a float32 reduction of `k` terms (see above). */
const reductionTol = (k: number): Tolerance => ({ atol: Math.max(1e-5, 1e-7 * k), rtol: 1e-4 });

// ---------------------------------------------------------------- naive float64 references

function naiveConv2d(x: Float32Array, w: Float32Array, g: Conv2DInfo): Float64Array {
  const y = new Float64Array(g.batch * g.outHeight * g.outWidth * g.outChannels);
  for (let n = 0; n < g.batch; n++)
    for (let oh = 0; oh < g.outHeight; oh++)
      for (let ow = 0; ow < g.outWidth; ow++)
        for (let f = 0; f < g.outChannels; f++) {
          let s = 0;
          for (let i = 0; i < g.filterHeight; i++)
            for (let j = 0; j < g.filterWidth; j++)
              for (let c = 0; c < g.inChannels; c++) {
                const ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight;
                const iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth;
                if (ih < 0 || ih >= g.inHeight || iw < 0 || iw >= g.inWidth) continue;
                s += x[((n * g.inHeight + ih) * g.inWidth + iw) * g.inChannels + c] * w[((i * g.filterWidth + j) * g.inChannels + c) * g.outChannels + f];
              }
          y[((n * g.outHeight + oh) * g.outWidth + ow) * g.outChannels + f] = s;
        }
  return y;
}

/** dx by scattering every output's gradient back through the same index arithmetic. */
function naiveConv2dBackpropInput(dy: Float32Array, w: Float32Array, g: Conv2DInfo): Float64Array {
  const dx = new Float64Array(g.batch * g.inHeight * g.inWidth * g.inChannels);
  for (let n = 0; n < g.batch; n++)
    for (let oh = 0; oh < g.outHeight; oh++)
      for (let ow = 0; ow < g.outWidth; ow++)
        for (let f = 0; f < g.outChannels; f++) {
          const d = dy[((n * g.outHeight + oh) * g.outWidth + ow) * g.outChannels + f];
          for (let i = 0; i < g.filterHeight; i++)
            for (let j = 0; j < g.filterWidth; j++)
              for (let c = 0; c < g.inChannels; c++) {
                const ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight;
                const iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth;
                if (ih < 0 || ih >= g.inHeight || iw < 0 || iw >= g.inWidth) continue;
                dx[((n * g.inHeight + ih) * g.inWidth + iw) * g.inChannels + c] += d * w[((i * g.filterWidth + j) * g.inChannels + c) * g.outChannels + f];
              }
        }
  return dx;
}

function naiveConv2dBackpropFilter(x: Float32Array, dy: Float32Array, g: Conv2DInfo): Float64Array {
  const dw = new Float64Array(g.filterHeight * g.filterWidth * g.inChannels * g.outChannels);
  for (let n = 0; n < g.batch; n++)
    for (let oh = 0; oh < g.outHeight; oh++)
      for (let ow = 0; ow < g.outWidth; ow++)
        for (let f = 0; f < g.outChannels; f++) {
          const d = dy[((n * g.outHeight + oh) * g.outWidth + ow) * g.outChannels + f];
          for (let i = 0; i < g.filterHeight; i++)
            for (let j = 0; j < g.filterWidth; j++)
              for (let c = 0; c < g.inChannels; c++) {
                const ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight;
                const iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth;
                if (ih < 0 || ih >= g.inHeight || iw < 0 || iw >= g.inWidth) continue;
                dw[((i * g.filterWidth + j) * g.inChannels + c) * g.outChannels + f] += d * x[((n * g.inHeight + ih) * g.inWidth + iw) * g.inChannels + c];
              }
        }
  return dw;
}

function naiveMatmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  return c;
}

// ---------------------------------------------------------------- geometries

interface ConvGeometry {
  name: string;
  input: [number, number, number, number];
  kernel: [number, number];
  outChannels: number;
  strides: [number, number];
  padding: Padding;
  dilations?: [number, number];
}

const geometries: ConvGeometry[] = [
  { name: '[2,7,5,3] k3×3 s1 same → 4', input: [2, 7, 5, 3], kernel: [3, 3], outChannels: 4, strides: [1, 1], padding: 'same' },
  { name: '[2,7,5,3] k3×3 s1 valid → 4', input: [2, 7, 5, 3], kernel: [3, 3], outChannels: 4, strides: [1, 1], padding: 'valid' },
  { name: '[2,7,5,3] k2×2 s2 valid → 4', input: [2, 7, 5, 3], kernel: [2, 2], outChannels: 4, strides: [2, 2], padding: 'valid' },
  { name: '[2,7,5,3] k2×2 s1 same → 3 (pad 0,1)', input: [2, 7, 5, 3], kernel: [2, 2], outChannels: 3, strides: [1, 1], padding: 'same' },
  { name: '[1,8,8,2] k3×3 s2 same → 5 (pad 0,1)', input: [1, 8, 8, 2], kernel: [3, 3], outChannels: 5, strides: [2, 2], padding: 'same' },
  { name: '[3,6,9,4] k3×2 s2×1 same → 5', input: [3, 6, 9, 4], kernel: [3, 2], outChannels: 5, strides: [2, 1], padding: 'same' },
  { name: '[2,9,9,2] k3×3 dilation 2 valid → 3', input: [2, 9, 9, 2], kernel: [3, 3], outChannels: 3, strides: [1, 1], padding: 'valid', dilations: [2, 2] },
  { name: '[2,6,6,2] k3×3 dilation 2 same → 3', input: [2, 6, 6, 2], kernel: [3, 3], outChannels: 3, strides: [1, 1], padding: 'same', dilations: [2, 2] },
  { name: '[2,5,5,3] k1×1 s1 valid → 4 (pointwise)', input: [2, 5, 5, 3], kernel: [1, 1], outChannels: 4, strides: [1, 1], padding: 'valid' },
  { name: '[2,5,5,3] k1×1 s2 valid → 4', input: [2, 5, 5, 3], kernel: [1, 1], outChannels: 4, strides: [2, 2], padding: 'valid' },
  { name: '[1,4,4,1] k5×5 s1 same → 2 (kernel larger than input)', input: [1, 4, 4, 1], kernel: [5, 5], outChannels: 2, strides: [1, 1], padding: 'same' },
  { name: '[2,3,3,2] k3×3 s3 valid → 2 (one output pixel)', input: [2, 3, 3, 2], kernel: [3, 3], outChannels: 2, strides: [3, 3], padding: 'valid' },
  // 32·32·9·16 = 147 456 im2col floats per image: the CPU backend splits this batch of 30 into chunks.
  { name: '[30,32,32,16] k3×3 s1 same → 4 (im2col chunking)', input: [30, 32, 32, 16], kernel: [3, 3], outChannels: 4, strides: [1, 1], padding: 'same' },
];

function runOnEveryBackend(name: string, body: (backend: Backend) => void): void {
  backendTest(name, () => body(getBackend()));
}

test('listBackends includes the reference and the cpu backend', () => {
  const names = listBackends();
  assert.ok(names.includes('reference') && names.includes('cpu'), names.join());
});

for (const g of geometries) {
  runOnEveryBackend(`conv2d, conv2dBackpropInput, conv2dBackpropFilter vs naive float64: ${g.name}`, (backend) => {
    const info = conv2dInfo(g.input, g.kernel, g.outChannels, g.strides, g.padding, g.dilations);
    assert.ok(info.outHeight > 0 && info.outWidth > 0);
    const xSize = g.input.reduce((a, b) => a * b, 1);
    const wSize = g.kernel[0] * g.kernel[1] * g.input[3] * g.outChannels;
    const ySize = info.batch * info.outHeight * info.outWidth * info.outChannels;
    const x = randomArray(xSize, 1 + xSize);
    const w = randomArray(wSize, 2 + wSize);
    const dy = randomArray(ySize, 3 + ySize);
    const kForward = g.kernel[0] * g.kernel[1] * g.input[3];
    const kInput = g.kernel[0] * g.kernel[1] * g.outChannels;
    const kFilter = info.batch * info.outHeight * info.outWidth;
    assertClose(backend.conv2d(x, w, info), naiveConv2d(x, w, info), reductionTol(kForward), `${g.name} conv2d`);
    assertClose(backend.conv2dBackpropInput(dy, w, info), naiveConv2dBackpropInput(dy, w, info), reductionTol(kInput), `${g.name} conv2dBackpropInput`);
    assertClose(backend.conv2dBackpropFilter(x, dy, info), naiveConv2dBackpropFilter(x, dy, info), reductionTol(kFilter), `${g.name} conv2dBackpropFilter`);
  });
}

runOnEveryBackend('matmul with every transpose combination vs naive float64 (odd sizes)', (backend) => {
  for (const [m, k, n] of [
    [1, 1, 1],
    [3, 5, 4],
    [17, 33, 9],
    [70, 65, 67],
  ]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = randomArray(m * k, m + 7 * k);
        const b = randomArray(k * n, n + 11 * k);
        assertClose(backend.matmul(a, b, m, k, n, transA, transB), naiveMatmul(a, b, m, k, n, transA, transB), reductionTol(k), `matmul ${m}×${k}×${n} tA=${transA} tB=${transB}`);
      }
    }
  }
});

runOnEveryBackend('maxPool and maxPoolBackprop vs naive (same and valid, overlapping windows)', (backend) => {
  const shape: [number, number, number, number] = [2, 7, 5, 3];
  const x = randomArray(2 * 7 * 5 * 3, 31);
  for (const [k, s, padding] of [
    [2, 2, 'valid'],
    [2, 2, 'same'],
    [3, 2, 'same'],
    [3, 1, 'valid'],
  ] as const) {
    const info = conv2dInfo(shape, [k, k], 3, [s, s], padding);
    const { y, argmax } = backend.maxPool(x, info);
    const expected = new Float64Array(y.length);
    const expectedArg = new Int32Array(y.length);
    for (let n = 0; n < 2; n++)
      for (let oh = 0; oh < info.outHeight; oh++)
        for (let ow = 0; ow < info.outWidth; ow++)
          for (let c = 0; c < 3; c++) {
            let best = -Infinity;
            let arg = -1;
            for (let i = 0; i < k; i++)
              for (let j = 0; j < k; j++) {
                const ih = oh * s - info.padTop + i;
                const iw = ow * s - info.padLeft + j;
                if (ih < 0 || ih >= 7 || iw < 0 || iw >= 5) continue;
                const idx = ((n * 7 + ih) * 5 + iw) * 3 + c;
                if (x[idx] > best) {
                  best = x[idx];
                  arg = idx;
                }
              }
            const o = ((n * info.outHeight + oh) * info.outWidth + ow) * 3 + c;
            expected[o] = best;
            expectedArg[o] = arg;
          }
    assertClose(y, expected, { atol: 0, rtol: 0 }, `maxPool k${k} s${s} ${padding}`);
    assert.equal([...argmax], [...expectedArg], `argmax k${k} s${s} ${padding}`);
    const dy = randomArray(y.length, 32);
    const dx = new Float64Array(x.length);
    for (let o = 0; o < y.length; o++) dx[expectedArg[o]] += dy[o];
    assertClose(backend.maxPoolBackprop(dy, argmax, x.length), dx, { atol: 1e-6, rtol: 1e-6 }, `maxPoolBackprop k${k} s${s} ${padding}`);
  }
});

runOnEveryBackend('batchNormTrain, batchNormInference, biasAdd, biasGrad vs naive float64', (backend) => {
  const C = 3;
  const rows = 20;
  const x = randomArray(rows * C, 41, -2, 5);
  const gamma = randomArray(C, 42, 0.5, 1.5);
  const beta = randomArray(C, 43);
  const eps = 1e-3;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) mean[c] += x[r * C + c] / rows;
  for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) variance[c] += (x[r * C + c] - mean[c]) ** 2 / rows;
  const yTrain = Float64Array.from(x, (v, i) => (gamma[i % C] * (v - mean[i % C])) / Math.sqrt(variance[i % C] + eps) + beta[i % C]);
  const t = backend.batchNormTrain(x, gamma, beta, C, eps);
  assertClose(t.mean, mean, { atol: 1e-6, rtol: 1e-6 }, 'batch mean');
  assertClose(t.variance, variance, { atol: 1e-6, rtol: 1e-5 }, 'biased batch variance');
  assertClose(t.y, yTrain, { atol: 1e-5, rtol: 1e-5 }, 'batchNormTrain y');
  const mm = randomArray(C, 44);
  const mv = randomArray(C, 45, 0.5, 2);
  const yInf = Float64Array.from(x, (v, i) => (gamma[i % C] * (v - mm[i % C])) / Math.sqrt(mv[i % C] + eps) + beta[i % C]);
  assertClose(backend.batchNormInference(x, gamma, beta, mm, mv, C, eps), yInf, { atol: 1e-5, rtol: 1e-5 }, 'batchNormInference y');
  const bias = randomArray(C, 46);
  assertClose(backend.biasAdd(x, bias, C), Float64Array.from(x, (v, i) => v + bias[i % C]), { atol: 1e-6, rtol: 1e-6 }, 'biasAdd');
  const db = new Float64Array(C);
  for (let i = 0; i < x.length; i++) db[i % C] += x[i];
  assertClose(backend.biasGrad(x, C), db, { atol: 1e-5, rtol: 1e-6 }, 'biasGrad');
});

// ---------------------------------------------------------------- layer forward golden cases

const ctx = { training: false, rng: new Random(1) };

backendTest('Conv2D forward is cross-correlation (no kernel flip) with HWIO kernel layout: [1,3,3,1] ⋆ 2×2 valid', () => {
  const conv = new Conv2D({ filters: 1, kernelSize: 2, inputShape: [3, 3, 1] });
  conv.build([3, 3, 1]);
  conv.markInitialized();
  const [kernel, bias] = conv.params();
  kernel.value.set([1, 2, 3, 4]); // w[0,0]=1 w[0,1]=2 w[1,0]=3 w[1,1]=4
  bias.value.set([0.5]);
  const y = conv.forward(tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]), ctx);
  assert.equal([...y.shape], [1, 2, 2, 1]);
  // y[0,0] = 1·1 + 2·2 + 4·3 + 5·4 + 0.5 = 37.5 (a flipped kernel would give 23.5)
  assert.equal([...y.values], [37.5, 47.5, 67.5, 77.5]);
});

backendTest('Conv2D forward mixes input channels into filters as kernel[i, j, c, f]', () => {
  const conv = new Conv2D({ filters: 2, kernelSize: 1, useBias: false });
  conv.build([1, 1, 3]);
  conv.markInitialized();
  conv.params()[0].value.set([1, 10, 2, 20, 3, 30]); // [1,1,3,2]: c0→(1,10), c1→(2,20), c2→(3,30)
  const y = conv.forward(tensor([1, 1, 1], [1, 1, 1, 3]), ctx);
  assert.equal([...y.values], [6, 60]);
});

backendTest('Dense forward: y = x·kernel + bias with kernel [in, units]; rank 3 multiplies along the last axis', () => {
  const d = new Dense({ units: 2 });
  d.build([2, 3]);
  d.markInitialized();
  const [kernel, bias] = d.params();
  kernel.value.set([1, 2, 3, 4, 5, 6]); // rows in, columns units
  bias.value.set([0.5, -0.5]);
  const y = d.forward(tensor([1, 0, 0, 0, 1, 1], [1, 2, 3]), ctx);
  assert.equal([...y.shape], [1, 2, 2]);
  assert.equal([...y.values], [1.5, 1.5, 8.5, 9.5]);
});

backendTest('Flatten is row-major over NHWC: index (h·W + w)·C + c', () => {
  const f = new Flatten();
  assert.equal(f.computeOutputShape([6, 6, 128]), [4608]);
  const x = tensor(Float32Array.from({ length: 2 * 2 * 3 * 2 }, (_, i) => i), [2, 2, 3, 2]);
  const y = f.forward(x);
  assert.equal([...y.shape], [2, 12]);
  // sample 1, h=1, w=2, c=1 → flat (1·3 + 2)·2 + 1 = 11
  assert.is(y.values[12 + 11], 12 + ((1 * 3 + 2) * 2 + 1));
});

backendTest('BatchNormalization inference uses gamma, beta and the moving statistics, per channel', () => {
  const bn = new BatchNormalization({ epsilon: 0.01 });
  bn.build([2]);
  bn.markInitialized();
  const [gamma, beta, mm, mv] = bn.params();
  gamma.value.set([2, 3]);
  beta.value.set([1, -1]);
  mm.value.set([0.5, -2]);
  mv.value.set([0.24, 0.99]);
  const y = bn.forward(tensor([1.5, 0], [1, 2]), ctx);
  // (1.5 − 0.5)/√0.25 ·2 + 1 = 5; (0 + 2)/√1 ·3 − 1 = 5
  assertClose(y.values, [5, 5], { atol: 1e-6, rtol: 1e-6 }, 'bn inference');
});

backendTest('Dropout in training keeps values ×1/(1−rate) or zeroes them; inference is the identity', () => {
  const d = new Dropout({ rate: 0.25, seed: 3 });
  d.build([1000]);
  const x = tensor(randomArray(1000, 50, 0.5, 1.5), [1, 1000]);
  const yTrain = d.forward(x, { training: true, rng: new Random(1) });
  let dropped = 0;
  for (let i = 0; i < 1000; i++) {
    if (yTrain.values[i] === 0) dropped++;
    else assertClose([yTrain.values[i]], [x.values[i] / 0.75], { atol: 0, rtol: 1e-6 }, `kept ${i}`);
  }
  assert.ok(dropped > 150 && dropped < 350, `dropped ${dropped}`);
  assert.equal([...d.forward(x, ctx).values], [...x.values]);
});

test('Random.fillBernoulli draws exactly what a loop over next() draws, and leaves the same state', () => {
  for (const [seed, p] of [[1, 0.25], [42, 0.5], [-7, 0.9], [123456789, 0]] as const) {
    const a = new Random(seed);
    const b = new Random(seed);
    const out = new Float32Array(10007);
    a.fillBernoulli(out, p, 0, 2);
    for (let i = 0; i < out.length; i++) assert.is(out[i], b.next() < p ? 0 : 2, `seed ${seed} value ${i}`);
    assert.is(a.nextUint32(), b.nextUint32(), `seed ${seed}: state after the fill`);
  }
});

backendTest('shape inference: computeOutputShape of each layer', () => {
  assert.equal(new Conv2D({ filters: 16, kernelSize: 3, padding: 'same' }).computeOutputShape([100, 100, 3]), [100, 100, 16]);
  assert.equal(new Conv2D({ filters: 8, kernelSize: 3 }).computeOutputShape([7, 5, 3]), [5, 3, 8]);
  assert.equal(new Conv2D({ filters: 8, kernelSize: 3, strides: 2, padding: 'same' }).computeOutputShape([7, 5, 3]), [4, 3, 8]);
  assert.equal(new Conv2D({ filters: 8, kernelSize: 2, strides: 2 }).computeOutputShape([7, 5, 3]), [3, 2, 8]);
  assert.equal(new MaxPooling2D().computeOutputShape([7, 5, 3]), [3, 2, 3]);
  assert.equal(new MaxPooling2D({ padding: 'same' }).computeOutputShape([7, 5, 3]), [4, 3, 3]);
  assert.equal(new Dense({ units: 150 }).computeOutputShape([4608]), [150]);
  assert.equal(new Dense({ units: 4 }).computeOutputShape([3, 5]), [3, 4]);
  assert.equal(new BatchNormalization().computeOutputShape([6, 6, 128]), [6, 6, 128]);
});

backendTest('param counts per layer: Conv2D kh·kw·in·out + out, Dense in·out + out, BN 4·C with 2·C non-trainable', () => {
  const conv = new Conv2D({ filters: 16, kernelSize: 3 });
  conv.build([100, 100, 3]);
  assert.equal(conv.countParams(), { trainable: 3 * 3 * 3 * 16 + 16, nonTrainable: 0 });
  const dense = new Dense({ units: 150 });
  dense.build([4608]);
  assert.equal(dense.countParams(), { trainable: 4608 * 150 + 150, nonTrainable: 0 });
  const bn = new BatchNormalization();
  bn.build([50, 50, 16]);
  assert.equal(bn.countParams(), { trainable: 32, nonTrainable: 32 });
  const pool = new MaxPooling2D();
  pool.build([4, 4, 2]);
  assert.equal(pool.countParams(), { trainable: 0, nonTrainable: 0 });
});

backendTest('layers used with trainable: false keep their weights out of the gradient', () => {
  const d = new Dense({ units: 2, trainable: false });
  d.build([3]);
  d.initializeWeights(new Random(1));
  assert.ok(d.params().every((p) => !p.trainable));
  d.forward(tensor(randomArray(6, 51), [2, 3]), { training: true, rng: new Random(1) });
  const dx = d.backward(tensor(randomArray(4, 52), [2, 2]), true);
  assert.ok(dx);
  assert.ok(d.params().every((p) => p.grad.every((g) => g === 0)));
});

test.run();
