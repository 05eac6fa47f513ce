// The augmentation ops against TensorFlow.js 4.22 ('cpu' backend): imageTransform (RandomRotation,
// RandomZoom) against tf.image.transform, TF's ImageProjectiveTransformV3 (the op Keras' layers
// call), on Keras' rotation and zoom matrices in every fill mode and interpolation; adjustContrast
// against the same formula in tf ops (mean over height and width, clipByValue).
import * as tf from '@tensorflow/tfjs';
import { test } from 'uvu';
import { referenceBackend as ref } from '../src/backend/index.js';
import type { FillMode } from '../src/backend/types.js';
import { assertClose, randomArray } from './helpers.js';

tf.enableProdMode();
await tf.setBackend('cpu');

const TOL = { atol: 1e-5, rtol: 1e-4 };
const [N, H, W, C] = [4, 9, 7, 3];

/** Keras' transforms: rotations by 0.7 and −2.3 rad, zooms (1.3, 0.6) and (0.45, 1.9) (width, height). */
function transforms(): Float32Array {
  const rot = (a: number): number[] => {
    const [c, s] = [Math.cos(a), Math.sin(a)];
    return [c, -s, (W - 1 - (c * (W - 1) - s * (H - 1))) / 2, s, c, (H - 1 - (s * (W - 1) + c * (H - 1))) / 2];
  };
  const zoom = (zx: number, zy: number): number[] => [zx, 0, ((W - 1) / 2) * (1 - zx), 0, zy, ((H - 1) / 2) * (1 - zy)];
  return Float32Array.from([...rot(0.7), ...rot(-2.3), ...zoom(1.3, 0.6), ...zoom(0.45, 1.9)]);
}

test('imageTransform matches tf.image.transform: rotations and zooms, every fill mode and interpolation', () => {
  const x = randomArray(N * H * W * C, 41);
  const t = transforms();
  const size = H * W * C;
  for (const fillMode of ['reflect', 'wrap', 'constant', 'nearest'] as FillMode[]) {
    for (const interpolation of ['bilinear', 'nearest'] as const) {
      const ours = ref.imageTransform(x, t, { batch: N, height: H, width: W, channels: C, fillMode, interpolation, fillValue: 0.3 });
      // One image per call: tfjs-backend-cpu 4.22's Transform returns after the first image of a batch (the rest stay fillValue).
      for (let n = 0; n < N; n++) {
        const theirs = tf.tidy(() => tf.image.transform(
          tf.tensor4d(x.subarray(n * size, (n + 1) * size), [1, H, W, C]), tf.tensor2d([[...t.subarray(n * 6, n * 6 + 6), 0, 0]]), interpolation, fillMode, 0.3,
        ));
        assertClose(ours.subarray(n * size, (n + 1) * size), theirs.dataSync(), TOL, `${fillMode}/${interpolation} image ${n}`);
        theirs.dispose();
      }
    }
  }
});

test('adjustContrast matches (x − mean_hw)·f + mean_hw clipped, in tf ops', () => {
  const x = randomArray(N * H * W * C, 42, 0, 2);
  const f = Float32Array.of(0.3, 1, 1.6, 2.4);
  const theirs = tf.tidy(() => {
    const tx = tf.tensor4d(x, [N, H, W, C]);
    const m = tf.mean(tx, [1, 2], true);
    return tf.clipByValue(tf.add(tf.mul(tf.sub(tx, m), tf.tensor4d(f, [N, 1, 1, 1])), m), 0.2, 1.8);
  });
  assertClose(ref.adjustContrast(x, f, { batch: N, height: H, width: W, channels: C, lower: 0.2, upper: 1.8 }), theirs.dataSync(), TOL, 'contrast');
  theirs.dispose();
});

test.run();
