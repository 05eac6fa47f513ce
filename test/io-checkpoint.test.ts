// ModelCheckpoint (per-epoch checkpoints, saveBestOnly) and atomic saves: a failed write or
// rename leaves the previous checkpoint intact. Split from io.test.ts, which covers the format.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LambdaCallback } from '../src/train/callbacks.js';
import { fsOps } from '../src/io/atomic.js';
import { loadModel, ModelCheckpoint, saveModel } from '../src/io/index.js';
import * as layers from '../src/layers/index.js';
import { SGD } from '../src/train/optimizers.js';
import { Sequential } from '../src/model/sequential.js';
import { Tensor, type Shape } from '../src/tensor.js';
import { assertSameWeights, randomArray, rejects } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'tscnn-io-checkpoint-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = (): string => join(root, `d${dirCount++}`);

const t4 = (values: Float32Array, shape: number[]): Tensor => new Tensor(values, shape as unknown as Shape);

/** Tiny fast model for the checkpoint tests. */
function tinyModel(): Sequential {
  const m = new Sequential();
  m.add(new layers.Dense({ units: 4, activation: 'relu', inputShape: [3] }));
  m.add(new layers.Dense({ units: 1, activation: 'sigmoid' }));
  m.compile({ optimizer: new SGD({ learningRate: 0.5 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  return m;
}

function tinyData(n: number, seed: number): { x: Tensor; y: Tensor } {
  const x = randomArray(n * 3, seed, -1, 1);
  const y = new Float32Array(n).map((_, i) => (x[i * 3] + 0.5 * x[i * 3 + 1] > 0 ? 1 : 0));
  return { x: t4(x, [n, 3]), y: t4(y, [n, 1]) };
}

test('ModelCheckpoint: a checkpoint per epoch, named by a Keras-style pattern', async () => {
  const m = tinyModel();
  const { x, y } = tinyData(32, 31);
  const dir = freshDir();
  const cb = new ModelCheckpoint({ filepath: join(dir, 'epoch-{epoch:02d}'), saveBestOnly: false });
  await m.fit(x, y, { epochs: 3, batchSize: 8, seed: 1, verbose: 0, callbacks: [cb] });
  assert.equal(readdirSync(dir).sort(), ['epoch-01', 'epoch-02', 'epoch-03']);
  assertSameWeights((await loadModel(join(dir, 'epoch-03'))).getWeights(), m.getWeights());
  const e1 = (await loadModel(join(dir, 'epoch-01'))).getWeights();
  assert.ok(e1[0].values.some((v, i) => v !== m.getWeights()[0].values[i]), 'epoch 1 holds earlier weights');
});

test('ModelCheckpoint saveBestOnly: keeps only improvements (min for val_loss, max for val_accuracy)', async () => {
  const m = tinyModel();
  m.getWeights();
  const dir = join(freshDir(), 'best');
  const cb = new ModelCheckpoint({ filepath: dir, saveBestOnly: true });
  cb.setModel(m);
  const w0 = m.getWeights();
  await cb.onEpochEnd(0, { loss: 1, val_loss: 0.8 });
  assert.is(cb.best, 0.8);
  const bump = (): void => m.setWeights(m.getWeights().map((w) => t4(w.values.map((v) => v + 0.25), [...w.shape])));
  bump();
  await cb.onEpochEnd(1, { loss: 1, val_loss: 0.9 }); // worse: not saved
  assertSameWeights((await loadModel(dir)).getWeights(), w0, 'after a worse epoch');
  await cb.onEpochEnd(2, { loss: 1, val_loss: 0.8 }); // equal: not an improvement
  assertSameWeights((await loadModel(dir)).getWeights(), w0, 'after an equal epoch');
  bump();
  const w3 = m.getWeights();
  await cb.onEpochEnd(3, { loss: 1, val_loss: 0.5 });
  assertSameWeights((await loadModel(dir)).getWeights(), w3, 'after an improvement');
  assert.is(cb.best, 0.5);
  await rejects(Promise.resolve(cb.onEpochEnd(4, { loss: 1 })), /monitored 'val_loss' is not in the logs; available: loss/, 'missing monitor');

  const cbMax = new ModelCheckpoint({ filepath: join(freshDir(), 'best'), monitor: 'val_accuracy', saveBestOnly: true });
  cbMax.setModel(m);
  await cbMax.onEpochEnd(0, { val_accuracy: 0.6 });
  await cbMax.onEpochEnd(1, { val_accuracy: 0.5 });
  assert.is(cbMax.best, 0.6);
  await cbMax.onEpochEnd(2, { val_accuracy: 0.7 });
  assert.is(cbMax.best, 0.7);
  assert.throws(() => new ModelCheckpoint({ filepath: 'x', saveBestOnly: true, monitr: 'loss' } as never), /unknown option 'monitr'/);
});

test('ModelCheckpoint saveBestOnly during fit holds the weights of the epoch with the lowest val_loss', async () => {
  const m = tinyModel();
  const { x, y } = tinyData(48, 41);
  const dir = join(freshDir(), 'best');
  const seen: { valLoss: number; weights: Tensor[] }[] = [];
  const recorder = new LambdaCallback({ onEpochEnd: (_e, logs) => void seen.push({ valLoss: logs.val_loss, weights: m.getWeights() }) });
  await m.fit(x, y, { epochs: 6, batchSize: 8, seed: 2, verbose: 0, validationSplit: 0.25, callbacks: [recorder, new ModelCheckpoint({ filepath: dir, saveBestOnly: true })] });
  let best = 0;
  seen.forEach((s, i) => {
    if (s.valLoss < seen[best].valLoss) best = i;
  });
  assertSameWeights((await loadModel(dir)).getWeights(), seen[best].weights);
});

test('atomic saves: a failed rename or write leaves the previous checkpoint intact and no temp files', async () => {
  const m = tinyModel();
  const parent = freshDir();
  const dir = join(parent, 'best');
  const cb = new ModelCheckpoint({ filepath: dir, saveBestOnly: true });
  cb.setModel(m);
  await cb.onEpochEnd(0, { val_loss: 1 });
  const saved = m.getWeights();
  m.setWeights(saved.map((w) => t4(w.values.map((v) => v * 2 + 1), [...w.shape])));

  const rename = fsOps.rename;
  fsOps.rename = async (from, to) => {
    if (to === dir && from.includes('.best.tmp-')) throw new Error('simulated crash during rename');
    return rename(from, to);
  };
  try {
    await rejects(Promise.resolve(cb.onEpochEnd(1, { val_loss: 0.5 })), /replacing '.*best' failed, previous contents kept: simulated crash during rename/, 'rename failure');
  } finally {
    fsOps.rename = rename;
  }
  assertSameWeights((await loadModel(dir)).getWeights(), saved, 'checkpoint after a failed rename');
  assert.is(cb.best, 1, 'a failed save is not the new best');
  assert.equal(readdirSync(parent), ['best']);

  const writeFile = fsOps.writeFile;
  fsOps.writeFile = async (path, data) => {
    if (path.endsWith('weights.bin')) {
      await writeFile(path, (data as Uint8Array).subarray(0, 10));
      throw new Error('simulated disk full');
    }
    return writeFile(path, data);
  };
  try {
    await rejects(Promise.resolve(cb.onEpochEnd(2, { val_loss: 0.4 })), /writing '.*best' failed, previous contents kept: simulated disk full/, 'write failure');
  } finally {
    fsOps.writeFile = writeFile;
  }
  assertSameWeights((await loadModel(dir)).getWeights(), saved, 'checkpoint after a failed write');
  assert.equal(readdirSync(parent), ['best']);

  // The new version cannot be moved in and the old one cannot be moved back (as if the
  // process died between the two renames): the old version survives beside the target.
  fsOps.rename = async (from, to) => {
    if (to === dir) throw new Error('killed');
    return rename(from, to);
  };
  try {
    await rejects(saveModel(m, dir), /previous contents kept in '.*\.best\.old-/, 'rollback impossible');
  } finally {
    fsOps.rename = rename;
  }
  assert.not.ok(existsSync(dir));
  // loadModel reads the previous version from where the interrupted save left it (with a
  // warning), and the next save puts it back before replacing it.
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (msg: string) => void warnings.push(msg);
  try {
    assertSameWeights((await loadModel(dir)).getWeights(), saved, 'previous version loaded from its .old- folder');
  } finally {
    console.warn = warn;
  }
  assert.match(warnings.join('\n'), /'.*best' is missing: a save was interrupted between its renames; loaded the previous version from '.*\.best\.old-/);
  await saveModel(m, dir);
  assert.equal(readdirSync(parent), ['best'], 'the next save cleaned up');
  assertSameWeights((await loadModel(dir)).getWeights(), m.getWeights(), 'the next save is in place');

  // A directory with other files is never replaced.
  const userDir = freshDir();
  mkdirSync(userDir);
  writeFileSync(join(userDir, 'notes.txt'), 'keep me');
  await rejects(saveModel(m, userDir), /holds other files \(notes\.txt\)/, 'foreign directory');
  assert.is(readFileSync(join(userDir, 'notes.txt'), 'utf8'), 'keep me');
});


test.run();
