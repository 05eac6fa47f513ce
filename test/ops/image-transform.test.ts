// imageTransform (RandomRotation, RandomZoom), its backward, and adjustContrast (RandomContrast)
// on every backend: hand-computed cases, random transforms in every fill mode and interpolation
// against the reference, and each backward against its forward (<dy, f(x)> = <f*(dy), x>).
import * as assert from 'uvu/assert';
import type { ContrastInfo, FillMode, ImageTransformInfo } from '../../src/backend/types.js';
import { assertClose } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';

const TOL = { atol: 1e-4, rtol: 1e-4 };
const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + v * b[i], 0);
const info = (batch: number, height: number, width: number, channels: number, fillMode: FillMode, interpolation: 'bilinear' | 'nearest', fillValue = 0): ImageTransformInfo =>
  ({ batch, height, width, channels, fillMode, interpolation, fillValue });

/** The rotation transform Keras' RandomRotation builds for angle a on an h × w image. */
function rotation(a: number, h: number, w: number): number[] {
  const [c, s] = [Math.cos(a), Math.sin(a)];
  return [c, -s, (w - 1 - (c * (w - 1) - s * (h - 1))) / 2, s, c, (h - 1 - (s * (w - 1) + c * (h - 1))) / 2];
}

opTest('imageTransform', '[1,3,3,1] rotation by 90°: y[i][j] = x[j][2 − i]; identity; half-pixel shift by hand', (b) => {
  const x = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9);
  const r90 = Float32Array.from(rotation(Math.PI / 2, 3, 3));
  assertClose(b.imageTransform(x, r90, info(1, 3, 3, 1, 'reflect', 'bilinear')), [3, 6, 9, 2, 5, 8, 1, 4, 7], TOL, 'rotate 90');
  assertClose(b.imageTransform(x, Float32Array.of(1, 0, 0, 0, 1, 0), info(1, 3, 3, 1, 'constant', 'bilinear')), x, TOL, 'identity');
  // sx = j + 0.5: (x[j] + x[j+1]) / 2; past the right edge: reflect reads x[2] and the mirrored x[2], constant half the fill 10.
  const shift = Float32Array.of(1, 0, 0.5, 0, 1, 0);
  assertClose(b.imageTransform(x, shift, info(1, 3, 3, 1, 'reflect', 'bilinear')), [1.5, 2.5, 3, 4.5, 5.5, 6, 7.5, 8.5, 9], TOL, 'reflect');
  assertClose(b.imageTransform(x, shift, info(1, 3, 3, 1, 'constant', 'bilinear', 10)), [1.5, 2.5, 6.5, 4.5, 5.5, 8, 7.5, 8.5, 9.5], TOL, 'constant');
  // sx = j − 1.25 = −1.25, −0.25, 0.75. nearest: clamped to 0, 0, 0.75 → columns 0, 0, 1. wrap (TF's: + len·(⌊−sx/(len − 1)⌋ + 1)):
  // 1.75, 2.75 → columns 2, 2 (clamped to 2), then 1. constant: rounded −1 (the fill), −0 (column 0), 1.
  const left = Float32Array.of(1, 0, -1.25, 0, 1, 0);
  assertClose(b.imageTransform(x, left, info(1, 3, 3, 1, 'nearest', 'nearest')), [1, 1, 2, 4, 4, 5, 7, 7, 8], TOL, 'nearest/nearest');
  assertClose(b.imageTransform(x, left, info(1, 3, 3, 1, 'wrap', 'nearest')), [3, 3, 2, 6, 6, 5, 9, 9, 8], TOL, 'wrap/nearest');
  assertClose(b.imageTransform(x, left, info(1, 3, 3, 1, 'constant', 'nearest', -1)), [-1, 1, 2, -1, 4, 5, -1, 7, 8], TOL, 'constant/nearest');
});

opTest('imageTransform', 'random rotations and zooms, every fill mode and interpolation, forward and adjoint against the reference', (b) => {
  const [N, H, W, C] = [3, 7, 6, 2];
  const transforms = Float32Array.from([...rotation(0.7, H, W), ...rotation(-2.1, H, W), 1.6, 0, -1.93, 0, 0.43, 1.8]);
  const x = rand(N * H * W * C);
  const dy = rand(N * H * W * C);
  for (const fillMode of ['reflect', 'wrap', 'constant', 'nearest'] as const) {
    for (const interpolation of ['bilinear', 'nearest'] as const) {
      const g = info(N, H, W, C, fillMode, interpolation, 0.25);
      const what = `${fillMode}/${interpolation}`;
      const y = b.imageTransform(x, transforms, g);
      assertClose(y, ref.imageTransform(x, transforms, g), TOL, `${what} forward`);
      const dx = b.imageTransformBackward(dy, transforms, g);
      assertClose(dx, ref.imageTransformBackward(dy, transforms, g), TOL, `${what} backward`);
      const zero = ref.imageTransform(new Float32Array(x.length), transforms, g);
      const lhs = dot(dy, y.map((v, i) => v - zero[i]));
      assert.ok(Math.abs(lhs - dot(dx, x)) < 1e-3 * (1 + Math.abs(lhs)), `${what} adjoint: ${lhs} vs ${dot(dx, x)}`);
    }
  }
});

opTest('adjustContrast', '[2,1,2,2] by hand: factor math, clip and its gradient', (b) => {
  const g: ContrastInfo = { batch: 2, height: 1, width: 2, channels: 2, lower: 0, upper: 255 };
  // Image 0, channel 0: 10, 30 (mean 20) → factor 2: 0, 40; channel 1: 100, 200 (mean 150) → 50, 250.
  // Image 1, factor 0.5: channel 0: 0, 4 → 1, 3; channel 1: 250, 254 → 251, 253.
  const x = Float32Array.of(10, 100, 30, 200, 0, 250, 4, 254);
  const f = Float32Array.of(2, 0.5);
  assertClose(b.adjustContrast(x, f, g), [0, 50, 40, 250, 1, 251, 3, 253], TOL, 'y');
  // Factor 3 on image 0: channel 0 −10, 50 → 0, 50; channel 1 0, 300 → 0, 255. Clipped cells pass no gradient.
  const clipped = b.adjustContrast(x, Float32Array.of(3, 1), g);
  assertClose(clipped.subarray(0, 4), [0, 0, 50, 255], TOL, 'clipped');
  const dy = Float32Array.of(1, 1, 0, 0, 1, 0, 0, 0);
  // dx = f·g + (1 − f)·mean(g): image 0 ch 0: g = 0, 0 (−10 clipped) → 0, 0; ch 1: z = 0 (inside, bound included), 300 → g = 1, 0,
  // mean ½ → 3 − 1, −1. Image 1, factor 1: dx = dy.
  assertClose(b.adjustContrastBackward(dy, x, Float32Array.of(3, 1), g), [0, 2, 0, -1, 1, 0, 0, 0], TOL, 'dx');
});

opTest('adjustContrast', 'random images against the reference, with and without clipping; adjoint', (b) => {
  const g: ContrastInfo = { batch: 3, height: 5, width: 4, channels: 3, lower: -0.5, upper: 0.6 };
  const x = rand(3 * 5 * 4 * 3);
  const dy = rand(x.length);
  const f = Float32Array.of(0.2, 1, 1.7);
  assertClose(b.adjustContrast(x, f, g), ref.adjustContrast(x, f, g), TOL, 'clipped forward');
  assertClose(b.adjustContrastBackward(dy, x, f, g), ref.adjustContrastBackward(dy, x, f, g), TOL, 'clipped backward');
  const wide = { ...g, lower: -100, upper: 100 };
  const y = b.adjustContrast(x, f, wide);
  assertClose(y, ref.adjustContrast(x, f, wide), TOL, 'forward');
  const dx = b.adjustContrastBackward(dy, x, f, wide);
  assert.ok(Math.abs(dot(dy, y) - dot(dx, x)) < 1e-3, `adjoint (linear without clipping): ${dot(dy, y)} vs ${dot(dx, x)}`);
});

runOps();
