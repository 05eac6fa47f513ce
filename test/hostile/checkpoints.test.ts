// Hostile and unlucky model files: user files with prototype names in the target folder,
// diverged weights, kills between the two renames of a save, readers during saves, forged
// model.json / weights.bin. Every case checks the error names the problem and that the
// user's files and the previous checkpoint are intact; kills run in child processes.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setBackend } from '../../src/backend/index.js';
import { loadModel, ModelCheckpoint, saveModel } from '../../src/io/index.js';
import { BatchNormalization, Dense, Flatten } from '../../src/layers/index.js';
import { Sequential } from '../../src/model/sequential.js';
import { tensor, type Tensor } from '../../src/tensor.js';
import { SGD } from '../../src/train/optimizers.js';
import { setSeed } from '../../src/util/random.js';
import { assertSameWeights, CustomLayer, randomArray, rejects } from '../helpers.js';
import { expectChild, runChild, SRC } from './harness.js';

test.before(() => void setBackend('cpu'));

const ATOMIC = resolve(import.meta.dirname, '../../src/io/atomic.ts');
const fresh = (): string => mkdtempSync(join(tmpdir(), 'tscnn-hostile-ckpt-'));

function model(seed = 2): Sequential {
  setSeed(seed);
  const m = new Sequential();
  m.add(new Dense({ units: 2, inputShape: [3] }));
  m.add(new BatchNormalization());
  m.add(new Dense({ units: 1, activation: 'sigmoid' }));
  m.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'binaryCrossentropy' });
  m.getWeights();
  return m;
}

async function quietly<T>(fn: () => Promise<T>): Promise<{ value: T; warnings: string[] }> {
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (msg: string) => void warnings.push(String(msg));
  try {
    return { value: await fn(), warnings };
  } finally {
    console.warn = warn;
  }
}

test('save() refuses a folder holding files named constructor, toString, valueOf, __proto__, and leaves them intact', async () => {
  for (const name of ['constructor', 'toString', 'valueOf', '__proto__', 'hasOwnProperty']) {
    const dir = fresh();
    await saveModel(model(), dir);
    writeFileSync(join(dir, name), `user data ${name}`);
    await rejects(model(3).save(dir), new RegExp(`saveModel: '.*' holds other files \\(${name}\\)`), name);
    assert.is(readFileSync(join(dir, name), 'utf8'), `user data ${name}`, `${name} intact`);
    assertSameWeights((await loadModel(dir)).getWeights(), model().getWeights(), `${name}: the saved model intact`);
  }
});

test('diverged (non-finite) weights are never written: saveModel throws, ModelCheckpoint keeps the good checkpoint and warns', async () => {
  const dir = join(fresh(), 'best');
  const m = model();
  const good = m.getWeights();
  const cb = new ModelCheckpoint({ filepath: dir });
  cb.setModel(m);
  await cb.onEpochEnd(0, { loss: 0.5 });
  m.params()[0].value[0] = Infinity;
  await rejects(saveModel(m, dir), /saveModel: weight '.*\/kernel' holds Infinity at index 0; not saved, since loadModel refuses non-finite weights/, 'saveModel');
  const { warnings } = await quietly(() => Promise.resolve(cb.onEpochEnd(1, { loss: NaN })));
  assert.match(warnings.join('\n'), /ModelCheckpoint: epoch 2: weight '(.*)\/kernel' of layer '\1' holds Infinity \(training diverged at learning rate 0.1\); checkpoint not saved, '.*best' kept as it was/);
  assertSameWeights((await loadModel(dir)).getWeights(), good, 'previous checkpoint');
});

test('ModelCheckpoint on a model with a layer that cannot be saved fails before the first epoch, not after it', async () => {
  setSeed(4);
  const m = new Sequential({ layers: [new CustomLayer({ inputShape: [2, 2, 1] }), new Flatten(), new Dense({ units: 1, activation: 'sigmoid' })] });
  m.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'binaryCrossentropy' });
  const before = m.getWeights();
  const dir = join(fresh(), 'ckpt');
  await rejects(m.fit(tensor(randomArray(8, 1), [2, 2, 2, 1]), tensor([0, 1], [2, 1]), { verbose: 0, callbacks: [new ModelCheckpoint({ filepath: dir })] }), /ModelCheckpoint: the model cannot be saved, so no checkpoint could be written: .*layer type Custom cannot be saved/, 'fit');
  assert.is(m.optimizer!.iterations, 0, 'no step');
  assertSameWeights(m.getWeights(), before, 'weights');
  assert.not.ok(existsSync(dir));
});

/** A child that saves `model(3)` to `dir` and SIGKILLs itself at the given rename (1: dir → old, 2: tmp → dir). */
function killedSave(dir: string, atRename: 1 | 2): ReturnType<typeof runChild> {
  return runChild(
    `const { Sequential, layers, optimizers, setSeed, saveModel } = await import(${JSON.stringify(SRC)});
     const { fsOps } = await import(${JSON.stringify(ATOMIC)});
     setSeed(3);
     const m = new Sequential({ layers: [new layers.Dense({ units: 2, inputShape: [3] }), new layers.BatchNormalization(), new layers.Dense({ units: 1, activation: 'sigmoid' })] });
     const rename = fsOps.rename;
     let n = 0;
     fsOps.rename = async (a, b) => { if (++n === ${atRename}) { console.log('KILLING'); process.kill(process.pid, 'SIGKILL'); } return rename(a, b); };
     await saveModel(m, ${JSON.stringify(dir)});
     console.log('SAVED');`,
    { timeoutMs: 30_000 },
  );
}

test('a kill between the two renames: loadModel still finds the previous model; the next save puts it back and cleans up', async () => {
  const parent = fresh();
  const dir = join(parent, 'm');
  await saveModel(model(), dir);
  const r = killedSave(dir, 2);
  assert.is(r.signal, 'SIGKILL', `child killed itself between the renames: ${r.out}`);
  assert.not.ok(existsSync(dir), 'the target is gone, as after a real kill');
  const { value: loaded, warnings } = await quietly(() => loadModel(dir));
  assertSameWeights(loaded.getWeights(), model().getWeights(), 'previous version');
  assert.match(warnings.join('\n'), /'.*m' is missing: a save was interrupted between its renames; loaded the previous version from '.*\.m\.old-\d+-/);
  await saveModel(model(5), dir);
  assert.equal(readdirSync(parent), ['m'], 'no .tmp- or .old- left');
  assertSameWeights((await loadModel(dir)).getWeights(), model(5).getWeights(), 'new save in place');
});

test('temporaries of killed saves are removed by the next save (not left to pile up)', async () => {
  const parent = fresh();
  const dir = join(parent, 'm');
  await saveModel(model(), dir);
  const tmps = (): string[] => readdirSync(parent).filter((n) => n.startsWith('.m.tmp-'));
  assert.is(killedSave(dir, 1).signal, 'SIGKILL', 'killed at the first rename');
  const first = tmps();
  assert.is(first.length, 1, 'a complete temporary left by the kill');
  assert.is(killedSave(dir, 1).signal, 'SIGKILL', 'killed again');
  assert.is(tmps().length, 1, "the second save removed the first's temporary before it was killed too");
  assert.is.not(tmps()[0], first[0]);
  assertSameWeights((await loadModel(dir)).getWeights(), model().getWeights(), 'the target was never touched');
  await saveModel(model(6), dir);
  assert.equal(readdirSync(parent), ['m']);
});

test('a reader in another process during 30 saves always loads one complete version (no ENOENT, no mix)', async () => {
  const parent = fresh();
  const dir = join(parent, 'm');
  const versions = [model(7), model(8)];
  await saveModel(versions[0], dir);
  const script = join(parent, 'saver.mts');
  writeFileSync(
    script,
    `const { Sequential, layers, setSeed, saveModel } = await import(${JSON.stringify(SRC)});
     const make = (seed) => { setSeed(seed); const m = new Sequential({ layers: [new layers.Dense({ units: 2, inputShape: [3] }), new layers.BatchNormalization(), new layers.Dense({ units: 1, activation: 'sigmoid' })] }); m.getWeights(); return m; };
     const ms = [make(7), make(8)];
     for (let i = 0; i < 30; i++) await saveModel(ms[i % 2], ${JSON.stringify(dir)});
     console.log('DONE');`,
  );
  const child = spawn(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', script], { cwd: resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let done = false;
  void exited.then(() => (done = true));
  let reads = 0;
  const expected = versions.map((v) => v.getWeights());
  while (!done) {
    const got = (await quietly(() => loadModel(dir))).value.getWeights();
    const same = (w: Tensor[]) => w.every((t, i) => t.values.every((v, j) => v === got[i].values[j]));
    assert.ok(same(expected[0]) || same(expected[1]), `read ${reads} is one of the two versions`);
    reads++;
  }
  clearTimeout(killer);
  assert.match(out, /DONE/, `saver finished: ${out}`);
  assert.ok(reads > 5, `${reads} reads overlapped the saves`);
  assert.equal(readdirSync(parent).sort(), ['m', 'saver.mts']);
});

test('saves to one folder from one process queue instead of failing on each other', async () => {
  const parent = fresh();
  const dir = join(parent, 'm');
  const ms = [model(1), model(2), model(3), model(4)];
  await Promise.all(ms.map((m) => saveModel(m, dir)));
  assertSameWeights((await loadModel(dir)).getWeights(), ms[3].getWeights(), 'the last save wins');
  assert.equal(readdirSync(parent), ['m']);
});

test('model.json declaring a Dense layer of 5e6 units fails at once, in bounded memory, before allocating', async () => {
  const dir = join(fresh(), 'm');
  await saveModel(model(), dir);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  json.modelTopology.config.layers[0].config.units = 5_000_000;
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  const r = runChild(`const { loadModel } = await import(${JSON.stringify(SRC)}); await loadModel(${JSON.stringify(dir)}); console.log('LOADED');`, { heapMB: 256, timeoutMs: 30_000 });
  expectChild(r, /ERROR: loadModel: .*model\.json: Sequential\.add: Dense '.*': weight 'kernel' \[3, 5000000\] has 15,000,000 values, more than the 16,777,2\d\d left in the weights file|ERROR: loadModel: .*weight 'bias' \[5000000\] has 5,000,000 values, more than the/, 600, 'dense 5e6');
  assert.not.match(r.out, /LOADED/);
});

test('weights.bin as a symlink to a file outside the folder is refused, without reading it or printing its size', async () => {
  const parent = fresh();
  const dir = join(parent, 'm');
  await saveModel(model(), dir);
  const secret = join(parent, 'secret.bin');
  writeFileSync(secret, Buffer.alloc(12345, 1));
  const weights = join(dir, 'weights.bin');
  const real = readFileSync(weights);
  writeFileSync(join(parent, 'copy.bin'), real);
  const { rmSync } = await import('node:fs');
  rmSync(weights);
  symlinkSync(secret, weights);
  const msg = await rejects(loadModel(dir), /loadModel: .*weights\.bin: is a link to a file outside .*; weight files must lie inside the model's folder/, 'outside link');
  assert.not.match(msg, /12345|12,345/, 'the size of the linked file does not leak');
  // A link inside the folder is fine.
  rmSync(weights);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'w.bin'), real);
  symlinkSync(join(dir, 'sub', 'w.bin'), weights);
  assertSameWeights((await loadModel(dir)).getWeights(), model().getWeights(), 'inside link');
});

test('a negative or NaN moving variance in weights.bin is refused by name instead of predicting 0.5', async () => {
  for (const bad of [-1, NaN]) {
    const dir = join(fresh(), 'm');
    const m = model();
    await saveModel(m, dir);
    const names = m.params().map((p) => p.name);
    const at = names.findIndex((n) => n.endsWith('/moving_variance'));
    const offset = m.params().slice(0, at).reduce((a, p) => a + p.value.length, 0);
    const bytes = readFileSync(join(dir, 'weights.bin'));
    bytes.writeFloatLE(bad, offset * 4);
    writeFileSync(join(dir, 'weights.bin'), bytes);
    await rejects(loadModel(dir), new RegExp(`loadModel: .*weights\\.bin: weight '.*/moving_variance' holds ${bad} at index 0; a variance cannot be negative`), `variance ${bad}`);
  }
});

test.run();
