// Hostile image folders: symbolic link loops, dangling links, links across class folders,
// class folders named like Object.prototype members or like numbers. The scan must finish with
// each problem named as a bad file (skippable), and count every image once under its label.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { imageDatasetFromDirectory } from '../../src/data/index.js';
import { rejects } from '../helpers.js';
import { craftPng, rawRgbRows } from './harness.js';

function tree(classes: Record<string, number>): string {
  const root = mkdtempSync(join(tmpdir(), 'tscnn-hostile-dir-'));
  for (const [name, count] of Object.entries(classes)) {
    mkdirSync(join(root, name));
    for (let i = 0; i < count; i++) writeFileSync(join(root, name, `img${i}.png`), craftPng({ width: 2, height: 2, raw: rawRgbRows(2, 2, i) }));
  }
  return root;
}

const open = (root: string, onBadFile: 'error' | 'skip' = 'skip') => imageDatasetFromDirectory(root, { imageSize: [2, 2], batchSize: 4, onBadFile, progress: false });

async function skipping<T>(fn: () => Promise<T>): Promise<{ value: T; warning: string }> {
  const warn = console.warn;
  let warning = '';
  console.warn = (msg: string) => void (warning += msg);
  try {
    return { value: await fn(), warning };
  } finally {
    console.warn = warn;
  }
}

test('a folder link back to its ancestor (a loop) is one bad file, not ELOOP after 40 levels', async () => {
  const root = tree({ cats: 2, dogs: 3 });
  symlinkSync(join(root, 'cats'), join(root, 'cats', 'again'));
  const { value: ds, warning } = await skipping(() => open(root));
  assert.equal(ds.classCounts, { cats: 2, dogs: 3 });
  assert.match(warning, /cats\/again: symbolic link loop \(leads back to .*cats\)/);
  await rejects(open(root, 'error'), /cats\/again: symbolic link loop/, 'onBadFile error names the loop');
});

test('a file link to itself (ELOOP) and a dangling link are bad files; a dangling class folder link is not a class', async () => {
  const root = tree({ cats: 2, dogs: 2 });
  symlinkSync(join(root, 'cats', 'self.png'), join(root, 'cats', 'self.png'));
  symlinkSync(join(root, 'nowhere.png'), join(root, 'dogs', 'gone.png'));
  symlinkSync(join(root, 'no-such-folder'), join(root, 'ghosts'));
  const { value: ds, warning } = await skipping(() => open(root));
  assert.equal(ds.classNames, ['cats', 'dogs']);
  assert.equal(ds.classCounts, { cats: 2, dogs: 2 });
  assert.match(warning, /cats\/self\.png: symbolic link loop/);
  assert.match(warning, /dogs\/gone\.png: dangling symbolic link \(its target does not exist\)/);
});

test('a link from one class folder into another is not counted twice under the wrong label', async () => {
  const root = tree({ cats: 2, dogs: 1 });
  symlinkSync(join(root, 'cats', 'img0.png'), join(root, 'dogs', 'fake.png'));
  symlinkSync(join(root, 'cats'), join(root, 'dogs', 'all-cats'));
  const { value: ds, warning } = await skipping(() => open(root));
  assert.equal(ds.classCounts, { cats: 2, dogs: 1 });
  assert.match(warning, /dogs\/fake\.png: link to .*cats\/img0\.png in another class folder .*wrong label/);
  assert.match(warning, /dogs\/all-cats\/img1\.png: link to .*another class folder/);
});

test('the same file reached twice through links inside one class counts once', async () => {
  const root = tree({ cats: 1, dogs: 1 });
  symlinkSync(join(root, 'cats', 'img0.png'), join(root, 'cats', 'twin.png'));
  const { value: ds, warning } = await skipping(() => open(root));
  assert.equal(ds.classCounts, { cats: 1, dogs: 1 });
  assert.match(warning, /cats\/twin\.png: the same file as .*cats\/img0\.png \(through a link\); counted once/);
});

test('class folders named __proto__, constructor and toString are ordinary classes with their counts', async () => {
  const root = tree(JSON.parse('{"__proto__": 1, "constructor": 2, "toString": 3}'));
  const { value: ds } = await skipping(() => open(root));
  assert.equal(ds.classNames, ['__proto__', 'constructor', 'toString']);
  const counts = ds.classCounts;
  assert.ok(Object.prototype.hasOwnProperty.call(counts, '__proto__'), '__proto__ is an own key');
  assert.equal(ds.classNames.map((c) => Object.getOwnPropertyDescriptor(counts, c)?.value), [1, 2, 3]);
  assert.is(Object.getPrototypeOf(counts), Object.prototype, 'the prototype was not replaced');
});

test('numeric class folders 1, 10, 2: classNames in code-point order, each count under its own name', async () => {
  const root = tree({ '1': 1, '2': 2, '10': 3 });
  const { value: ds } = await skipping(() => open(root));
  assert.equal(ds.classNames, ['1', '10', '2']);
  assert.equal(ds.classNames.map((c) => ds.classCounts[c]), [1, 3, 2]);
});

test.run();
