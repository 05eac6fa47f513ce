import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

test('cats-vs-dogs example runs end to end on a tiny generated set, then classify loads its model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tscnn-example-'));
  try {
    const out = execFileSync(
      tsx,
      ['examples/cats-vs-dogs.ts', '--count', '40', '--epochs', '2', '--image-size', '32', '--batch-size', '8', '--cache', join(dir, 'cache'), '--out', join(dir, 'out')],
      { cwd: root, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    assert.match(out, /Generating 40 synthetic images \(25 % cats\)/);
    // 32→16→8→4→2 px: Flatten 512, so Dense(150) has 76,950 weights; total 175,205.
    assert.match(out, /Total params: 175,205/);
    assert.match(out, /Epoch 2\/2/);
    assert.match(out, /loss: \d\.\d{4} - precision: \d\.\d{4} - recall: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_precision: \d\.\d{4}/);
    assert.match(out, /Confusion matrix on the validation set/);
    const report = readFileSync(join(dir, 'out', 'report.html'), 'utf8');
    assert.ok((report.match(/<svg/g) ?? []).length >= 2, 'training curves and PR curve as SVG');
    assert.ok(existsSync(join(dir, 'out', 'model', 'model.json')) && existsSync(join(dir, 'out', 'model', 'weights.bin')));
    const cats = readdirSync(join(dir, 'cache'))[0];
    const catDir = join(dir, 'cache', cats, 'cats');
    const image = join(catDir, readdirSync(catDir)[0]);
    const classified = execFileSync(tsx, ['examples/classify.ts', join(dir, 'out', 'model'), image], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.match(classified, new RegExp(`${image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (cats|dogs) \\(p\\(dogs\\) = 0\\.\\d{4}\\)`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('residual example trains and saves a functional model; fine-tune loads it, freezes it and trains a new head', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tscnn-residual-'));
  try {
    const common = ['--count', '40', '--epochs', '1', '--cache', join(dir, 'cache')];
    const out = execFileSync(tsx, ['examples/residual.ts', ...common, '--image-size', '16', '--batch-size', '8', '--save', join(dir, 'model')], {
      cwd: root, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.match(out, /block1_add \(Add\)\s+\(None, 8, 8, 16\)\s+0\s+block1_conv2\[0\]\[0\]/);
    assert.match(out, /stem_bn → stem_relu → stem_pool \(batchNormActPool\.train\)/);
    assert.ok(existsSync(join(dir, 'model', 'model.json')));
    const tuned = execFileSync(tsx, ['examples/fine-tune.ts', ...common, '--model', join(dir, 'model')], {
      cwd: root, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.match(tuned, /Non-trainable params: 19,584\n/);
    assert.match(tuned, /Base weights changed: 0 of 18/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
