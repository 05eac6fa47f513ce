import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { catsDogsTensors, drawCatOrDog, generateCatsDogs, mulberry32 } from '../src/data/index.js';
import { decodeImage, detectImageFormat } from '../src/image/index.js';

const root = mkdtempSync(join(tmpdir(), 'tscnn-synthetic-'));

test('same seed gives the same bytes; another seed gives other images', async () => {
  const a = await generateCatsDogs({ outDir: join(root, 'a'), count: 12, seed: 42, minSize: 40, maxSize: 70 });
  const b = await generateCatsDogs({ outDir: join(root, 'b'), count: 12, seed: 42, minSize: 40, maxSize: 70 });
  const c = await generateCatsDogs({ outDir: join(root, 'c'), count: 12, seed: 43, minSize: 40, maxSize: 70 });
  assert.equal(a.files.map((f) => relative(join(root, 'a'), f)), b.files.map((f) => relative(join(root, 'b'), f)));
  for (let i = 0; i < a.files.length; i++) assert.ok(readFileSync(a.files[i]).equals(readFileSync(b.files[i])), a.files[i]);
  const differs = a.files.filter((f, i) => !readFileSync(f).equals(readFileSync(c.files[i]))).length;
  assert.is(differs, 12);
});

test('class ratio 25/75 of 40, a mix of real PNG and JPEG files, varied sizes within bounds', async () => {
  const out = join(root, 'ratio');
  const r = await generateCatsDogs({ outDir: out, count: 40, catFraction: 0.25, seed: 1, minSize: 30, maxSize: 60 });
  assert.equal([r.cats, r.dogs], [10, 30]);
  assert.is(readdirSync(join(out, 'cats')).length, 10);
  assert.is(readdirSync(join(out, 'dogs')).length, 30);
  const formats = new Map<string, number>();
  const widths = new Set<number>();
  let nonSquare = 0;
  for (const f of r.files) {
    const bytes = readFileSync(f);
    const format = detectImageFormat(bytes)!;
    assert.is(f.endsWith('.png') ? 'png' : 'jpeg', format, `${f} extension matches content`);
    formats.set(format, (formats.get(format) ?? 0) + 1);
    const img = decodeImage(bytes, f);
    assert.ok(img.width >= 30 && img.width <= 60 && img.height >= 30 && img.height <= 60, `${img.width}x${img.height}`);
    widths.add(img.width);
    if (img.width !== img.height) nonSquare++;
  }
  assert.ok(formats.get('png')! >= 8 && formats.get('jpeg')! >= 8, JSON.stringify([...formats]));
  assert.ok(widths.size >= 10 && nonSquare >= 30);
  const err = await generateCatsDogs({ outDir: out, count: 4, catFraction: 2 }).catch((e: Error) => e);
  assert.match(String(err), /catFraction must be in \[0, 1\], got 2/);
});

test('classes do not differ in colour: mean brightness within 1 %, colour histograms close', () => {
  // Paired draws: cat i and dog i use the same random stream, so they share background,
  // colours, pose and noise and differ only in shape. This removes most of the between-image
  // variance (independent samples of 300 differ by ~2 % in brightness from one seed to the
  // next, even within a class) and leaves the effect of the class itself.
  const bins = 8;
  const stats = (kind: 'cat' | 'dog'): { mean: number; hist: number[] } => {
    const hist = new Array<number>(3 * bins).fill(0);
    let sum = 0;
    let count = 0;
    for (let i = 0; i < 300; i++) {
      const img = drawCatOrDog(kind, mulberry32(1000 + i), 40, 40);
      for (let p = 0; p < img.data.length; p++) {
        sum += img.data[p];
        hist[(p % 3) * bins + Math.floor(img.data[p] / (256 / bins))]++;
      }
      count += img.data.length;
    }
    return { mean: sum / count, hist: hist.map((h) => h / (count / 3)) };
  };
  const cat = stats('cat');
  const dog = stats('dog');
  const rel = Math.abs(cat.mean - dog.mean) / ((cat.mean + dog.mean) / 2);
  assert.ok(rel < 0.01, `mean brightness cat ${cat.mean.toFixed(2)} vs dog ${dog.mean.toFixed(2)} (${(rel * 100).toFixed(2)} %)`);
  // L1 distance between the mean per-channel histograms (each sums to 1 per channel, max 2)
  const l1 = Math.max(...[0, 1, 2].map((ch) => cat.hist.slice(ch * bins, (ch + 1) * bins).reduce((a, v, k) => a + Math.abs(v - dog.hist[ch * bins + k]), 0)));
  assert.ok(l1 < 0.06, `histogram L1 distance ${l1.toFixed(3)}`);
});

test('a logistic regression on colour histograms is at chance (50 ± 8 % on 400 held-out images)', () => {
  const bins = 4;
  const features = (kind: 'cat' | 'dog', i: number): number[] => {
    const img = drawCatOrDog(kind, mulberry32(77_000 + i * 2 + (kind === 'cat' ? 0 : 1)), 40, 40);
    const h = new Array<number>(bins ** 3).fill(0);
    for (let p = 0; p < img.data.length; p += 3) {
      const q = (v: number): number => Math.floor(v / (256 / bins));
      h[q(img.data[p]) * bins * bins + q(img.data[p + 1]) * bins + q(img.data[p + 2])] += 1 / 1600;
    }
    return h;
  };
  const make = (from: number, n: number): { x: number[][]; y: number[] } => {
    const x: number[][] = [];
    const y: number[] = [];
    for (let i = from; i < from + n; i++) {
      x.push(features('cat', i), features('dog', i));
      y.push(0, 1);
    }
    return { x, y };
  };
  const train = make(0, 300);
  const testSet = make(1000, 200);
  const d = bins ** 3;
  const w = new Float64Array(d);
  let b = 0;
  for (let epoch = 0; epoch < 300; epoch++) {
    const gw = new Float64Array(d);
    let gb = 0;
    train.x.forEach((row, i) => {
      const z = row.reduce((a, v, k) => a + v * w[k], b);
      const err = 1 / (1 + Math.exp(-z)) - train.y[i];
      for (let k = 0; k < d; k++) gw[k] += (err * row[k]) / train.x.length;
      gb += err / train.x.length;
    });
    for (let k = 0; k < d; k++) w[k] -= 20 * gw[k];
    b -= 20 * gb;
  }
  const accuracy = (set: { x: number[][]; y: number[] }): number =>
    set.x.filter((row, i) => (row.reduce((a, v, k) => a + v * w[k], b) > 0 ? 1 : 0) === set.y[i]).length / set.x.length;
  const acc = accuracy(testSet);
  assert.ok(Math.abs(acc - 0.5) < 0.08, `held-out accuracy ${acc} (train ${accuracy(train)})`);
});

test('catsDogsTensors: [count, size, size, 3] in [0, 1], labels by catFraction, shuffled, same seed same tensors', () => {
  const a = catsDogsTensors({ count: 20, size: 16, catFraction: 0.25, seed: 4 });
  assert.equal(a.x.shape, [20, 16, 16, 3]);
  assert.equal(a.y.shape, [20, 1]);
  const labels = Array.from(a.y.values);
  assert.is(labels.filter((v) => v === 0).length, 5);
  assert.is(labels.filter((v) => v === 1).length, 15);
  // Shuffled: the cats are not all first.
  assert.ok(labels.slice(0, 5).some((v) => v === 1), JSON.stringify(labels));
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of a.x.values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  assert.ok(lo >= 0 && hi <= 1 && hi - lo > 0.5, `range ${lo}..${hi}`);
  const b = catsDogsTensors({ count: 20, size: 16, catFraction: 0.25, seed: 4 });
  assert.equal(Array.from(b.x.values), Array.from(a.x.values));
  const c = catsDogsTensors({ count: 20, size: 16, catFraction: 0.25, seed: 5 });
  assert.not.equal(Array.from(c.x.values.subarray(0, 100)), Array.from(a.x.values.subarray(0, 100)));
  assert.throws(() => catsDogsTensors({ count: 0, size: 16 }), /catsDogsTensors: count must be a positive integer, got 0/);
  assert.throws(() => catsDogsTensors({ count: 2, size: 16, colour: 1 } as never), /catsDogsTensors.*colour/);
});

test.run();
