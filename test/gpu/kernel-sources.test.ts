// Kernel sources as gpu.js parses them: no bundler artefacts, in tsx and in dist/.
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KERNEL_FUNCTIONS } from '../../src/backend/gpu/index.js';

const ARTEFACTS = ['(0, import_', '__name(', 'import_', 'require('];

// In 'webgpu' the device worker compiles exactly this text (fn.toString() is what it is sent).
test('kernel sources as gpu.js sees them carry no bundler artefacts (tsx)', () => {
  const names = Object.keys(KERNEL_FUNCTIONS);
  assert.ok(names.length >= 24, `only ${names.length} kernels`);
  for (const [name, fn] of Object.entries(KERNEL_FUNCTIONS)) {
    const src = fn.toString();
    assert.ok(src.startsWith('function '), `${name}: source does not start with 'function ': ${src.slice(0, 40)}`);
    for (const bad of ARTEFACTS) assert.not.ok(src.includes(bad), `${name}: source contains '${bad}'`);
  }
});

test('kernel sources in dist/ carry no bundler artefacts (after npm run build)', async () => {
  const dist = new URL('../../dist/index.js', import.meta.url);
  if (!existsSync(dist)) {
    console.log('test/gpu: dist/index.js missing: run `npm run build` first; dist check SKIPPED');
    return;
  }
  const text = readFileSync(dist, 'utf8');
  for (const name of Object.keys(KERNEL_FUNCTIONS)) {
    const at = text.indexOf(`function ${name}(`);
    assert.ok(at >= 0, `dist/index.js has no 'function ${name}(' (renamed or minified?)`);
    const body = text.slice(at, text.indexOf('\n}\n', at) + 2);
    for (const bad of ARTEFACTS) assert.not.ok(body.includes(bad), `dist ${name}: source contains '${bad}'`);
  }
});

test.run();
