// What `npm pack` ships must run: every chunk a bundle imports and every worker entry the engine,
// the WebGPU backend and the decoding pool start by file name (tsup builds them beside index.js).
// Needs `npm run build` first (CI builds before testing); without dist/ the test says so and fails.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');

test('npm pack ships every bundle, chunk and worker entry that dist/ holds, and what the bundles import', () => {
  assert.ok(existsSync(join(dist, 'index.js')), 'dist/ is missing: run npm run build before this test');
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const packed = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
  const code = readdirSync(dist).filter((f) => f.endsWith('.js') || f.endsWith('.cjs'));
  for (const entry of ['index.js', 'index.cjs', 'wasm-worker.js', 'wasm-worker.cjs', 'webgpu-worker.js', 'webgpu-worker.cjs', 'decode-worker.js', 'decode-worker.cjs']) {
    assert.ok(code.includes(entry), `dist/${entry} was not built`);
  }
  const missing = code.filter((f) => !packed.has(`dist/${f}`));
  assert.equal(missing, [], `built but not packed: ${missing.join(', ')}`);
  for (const f of code) {
    const src = readFileSync(join(dist, f), 'utf8');
    for (const m of src.matchAll(/(?:from\s*|import\s*\(\s*|require\(\s*)["']\.\/([^"']+)["']/g)) {
      assert.ok(packed.has(`dist/${m[1]}`), `dist/${f} imports ./${m[1]}, which npm pack leaves out`);
    }
  }
  assert.not.ok([...packed].some((p) => p.endsWith('.map') || p.startsWith('kernels/')), 'no source maps or kernel sources are shipped');
});

test.run();
