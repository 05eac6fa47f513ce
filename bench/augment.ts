// The augmentation ops of RandomRotation / RandomZoom (imageTransform) and RandomContrast
// (adjustContrast) on the active backend, batch 32 at the seed model's 100×100×3, each paired in
// alternation with tfjs-wasm's forward of the same work: tf.image.transform (its Transform kernel,
// the same resampling) and the contrast composed of tf ops. TF.js has no gradient for either, so
// the backward ops are held to its forward. The last row pairs RandomRotation's forward + backward
// with a Conv2D 3×3 3 → 32 forward + backward (the seed model's first layer) on the same batch:
// the share of a training step the augmentation takes.
import { OutputArena } from '../src/backend/arena.js';
import { conv2dInfo } from '../src/geometry.js';
import type { ContrastInfo, ImageTransformInfo } from '../src/backend/types.js';
import { getBackend } from '../src/index.js';
import { pairedRatio, type PairedStats } from './harness.js';
import { tf, usePeer } from './peers.js';

const [N, H, W, C] = [32, 100, 100, 3];

function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => lo + ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * (hi - lo));
}

/** Keras' rotation transforms for angles in ±0.1 turns, one per image. */
function rotations(): Float32Array {
  const t = new Float32Array(N * 6);
  const angles = values(N, 9, -0.2 * Math.PI, 0.2 * Math.PI);
  angles.forEach((a, n) => {
    const [c, s] = [Math.cos(a), Math.sin(a)];
    t.set([c, -s, (W - 1 - (c * (W - 1) - s * (H - 1))) / 2, s, c, (H - 1 - (s * (W - 1) + c * (H - 1))) / 2], n * 6);
  });
  return t;
}

/** Runs the `augment/…` rows that `selected` accepts; returns the Markdown section (empty if none ran). */
export async function benchAugment(selected: (key: string) => boolean, log: (msg: string) => void, withTfjsWasm: boolean): Promise<string[]> {
  const keys = ['augment/rotation.fwd', 'augment/rotation.bwd', 'augment/contrast.fwd', 'augment/contrast.bwd', 'augment/rotation-vs-conv'];
  if (!keys.some(selected)) return [];
  if (withTfjsWasm) await usePeer('tfjs-wasm');
  const b = getBackend();
  const x = values(N * H * W * C, 1, 0, 255);
  const dy = values(N * H * W * C, 2);
  const transforms = rotations();
  const info: ImageTransformInfo = { batch: N, height: H, width: W, channels: C, fillMode: 'reflect', interpolation: 'bilinear', fillValue: 0 };
  const factors = values(N, 3, 0.8, 1.2);
  const cinfo: ContrastInfo = { batch: N, height: H, width: W, channels: C, lower: 0, upper: 255 };
  const tx = tf.tensor4d(x, [N, H, W, C]);
  const tt = tf.tensor2d(Array.from({ length: N }, (_, n) => [...transforms.subarray(n * 6, n * 6 + 6), 0, 0]), [N, 8]);
  const tfac = tf.tensor4d(factors, [N, 1, 1, 1]);
  const theirsTransform = (): void => {
    const out = tf.image.transform(tx, tt, 'bilinear', 'reflect');
    out.dataSync();
    out.dispose();
  };
  const theirsContrast = (): void => {
    const out = tf.tidy(() => {
      const m = tf.mean(tx, [1, 2], true);
      return tf.clipByValue(tf.add(tf.mul(tf.sub(tx, m), tfac), m), 0, 255);
    });
    out.dataSync();
    out.dispose();
  };
  const convInfo = conv2dInfo([N, H, W, C], [3, 3], 32, [1, 1], 'same');
  const kernel = values(9 * C * 32, 4);
  const convDy = values(N * H * W * 32, 5);
  const convStep = (): unknown => {
    b.conv2d(x, kernel, convInfo);
    b.conv2dBackpropFilter(x, convDy, convInfo);
    return b.conv2dBackpropInput(convDy, kernel, convInfo);
  };
  const rows: { key: string; what: string; stats: PairedStats; versus: string }[] = [];
  const ops: [string, string, () => unknown, (() => unknown) | null, string][] = [
    ['augment/rotation.fwd', 'imageTransform (rotation, bilinear, reflect) forward', () => b.imageTransform(x, transforms, info), withTfjsWasm ? theirsTransform : null, "tfjs-wasm's tf.image.transform"],
    ['augment/rotation.bwd', 'imageTransform backward (adjoint)', () => b.imageTransformBackward(dy, transforms, info), withTfjsWasm ? theirsTransform : null, "tfjs-wasm's tf.image.transform"],
    ['augment/contrast.fwd', 'adjustContrast forward', () => b.adjustContrast(x, factors, cinfo), withTfjsWasm ? theirsContrast : null, 'tfjs-wasm mean/sub/mul/add/clip'],
    ['augment/contrast.bwd', 'adjustContrast backward', () => b.adjustContrastBackward(dy, x, factors, cinfo), withTfjsWasm ? theirsContrast : null, 'tfjs-wasm mean/sub/mul/add/clip'],
    ['augment/rotation-vs-conv', 'imageTransform forward + backward', () => {
      b.imageTransform(x, transforms, info);
      return b.imageTransformBackward(dy, transforms, info);
    }, convStep, "tscnn's Conv2D 3×3 3 → 32 forward + both gradients"],
  ];
  const arena = new OutputArena();
  for (const [key, what, ours, theirs, versus] of ops) {
    if (!selected(key) || !theirs) continue;
    log(`${key}: paired with ${versus}`);
    const stats = await pairedRatio(key, () => arena.run(ours), () => arena.run(theirs), 7);
    log(`${key.padEnd(26)} ${versus} ÷ tscnn = ${stats.median.toFixed(2)}× (${stats.min.toFixed(2)}–${stats.max.toFixed(2)})`);
    rows.push({ key, what, stats, versus });
  }
  tf.dispose([tx, tt, tfac]);
  if (rows.length === 0) return [];
  const f = (v: number): string => v.toFixed(2);
  return [
    `## Augmentation ops (batch ${N}, ${H}×${W}×${C}, backend ${b.name})`,
    '',
    "The other side's time ÷ tscnn's, paired in alternation (median of the rounds, min–max); above 1: tscnn faster. TF.js has no gradient for either op, so the backward rows are held to its forward.",
    '',
    '| | key | versus | ratio | min–max | rounds |',
    '|---|---|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.what} | \`${r.key}\` | ${r.versus} | ${f(r.stats.median)}× | ${f(r.stats.min)}–${f(r.stats.max)} | ${r.stats.rounds} |`),
    '',
  ];
}
