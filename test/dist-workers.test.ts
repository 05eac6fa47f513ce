// The built bundles start their own worker entries: a child process imports dist/index.js (ESM)
// or requires dist/index.cjs (CJS), sets the cpu backend to 2 threads and runs a matmul and a
// conv2d large enough to be split over both; their results must match the reference backend's.
// The child wraps worker_threads.Worker before loading tscnn to record which file each engine
// thread was started from: dist/wasm-worker.js or .cjs, not the TypeScript sources. A worker that
// did not compute its half would leave that half of the output wrong. Needs `npm run build`
// first (CI builds before testing); without dist/ the test says so and fails.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');

/** Child-process body after `lib` (the bundle's exports) is loaded; prints one JSON line. */
const BODY = `
lib.setBackend('cpu', { threads: 2 });
const info = lib.engineInfo();
let s = 7;
const rand = (n) => Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1);
const [M, K, N] = [96, 128, 80];
const a = rand(M * K), b = rand(K * N);
const conv = lib.conv2dInfo([2, 24, 24, 8], [3, 3], 16, [1, 1], 'same', [1, 1]);
const x = rand(2 * 24 * 24 * 8), w = rand(3 * 3 * 8 * 16);
const run = () => {
  const be = lib.getBackend();
  return { mm: Array.from(be.matmul(a, b, M, K, N, false, false)), conv: Array.from(be.conv2d(x, w, conv)) };
};
const fast = run();
lib.setBackend('reference');
const ref = run();
lib.shutdownEngineThreads();
console.log(JSON.stringify({ info, started, fast, ref }));
`;

/** Wraps Worker so that the child records the entry file of every thread it starts. */
const SPY = `
const wt = require('node:worker_threads');
const started = [];
const Base = wt.Worker;
wt.Worker = class extends Base {
  constructor(url, options) {
    started.push(String(url));
    super(url, options);
  }
};
require('node:module').syncBuiltinESMExports();
`;

interface Report {
  info: { simd: boolean; threads: number };
  started: string[];
  fast: { mm: number[]; conv: number[] };
  ref: { mm: number[]; conv: number[] };
}

// The child runs from a file, or (eval) as `node --input-type=module -e code`: worker threads
// inherit the parent's execArgv, and a worker given `--input-type` without code dies before it
// starts, so the engine must leave that flag out; and a V8 flag (`npm run bench` passes one), which
// Node inherits silently but refuses in an explicit execArgv, must not stop the workers either.
function runChild(format: 'esm' | 'cjs', evalCode = false, flags: string[] = []): Report {
  const code =
    format === 'esm'
      ? `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);${SPY}const lib = await import(${JSON.stringify(pathToFileURL(join(dist, 'index.js')).href)});${BODY}`
      : `${SPY}const lib = require(${JSON.stringify(join(dist, 'index.cjs'))});${BODY}`;
  if (evalCode) {
    const out = execFileSync(process.execPath, [...flags, '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', timeout: 90_000 });
    return JSON.parse(out.trim().split('\n').pop()!) as Report;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tscnn-dist-workers-'));
  const file = join(dir, format === 'esm' ? 'child.mjs' : 'child.cjs');
  try {
    writeFileSync(file, code);
    const out = execFileSync(process.execPath, [...flags, file], { cwd: root, encoding: 'utf8', timeout: 90_000 });
    return JSON.parse(out.trim().split('\n').pop()!) as Report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertNear(actual: number[], expected: number[], what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (err > 1e-4 + 1e-4 * Math.abs(expected[i])) assert.unreachable(`${what}: index ${i}: ${actual[i]} vs reference ${expected[i]}`);
    worst = Math.max(worst, err);
  }
  assert.ok(worst < 1e-3, `${what}: worst error ${worst}`);
}

const V8_FLAG = ['--experimental-wasm-relaxed-simd'];
for (const [format, evalCode, flags] of [['esm', false, []], ['cjs', false, []], ['esm', true, []], ['esm', false, V8_FLAG], ['esm', true, V8_FLAG]] as const) {
  const file = format === 'esm' ? 'index.js' : 'index.cjs';
  const worker = format === 'esm' ? 'wasm-worker.js' : 'wasm-worker.cjs';
  const how = `${flags.length ? ` with ${flags.join(' ')}` : ''}${evalCode ? ' under node --input-type=module -e' : ''}`;
  test(`dist/${file}${how}: cpu backend with 2 threads starts dist/${worker} and matches the reference (matmul, conv2d)`, () => {
    assert.ok(existsSync(join(dist, file)), 'dist/ is missing: run npm run build before this test');
    const r = runChild(format, evalCode, [...flags]);
    assert.equal({ simd: r.info.simd, threads: r.info.threads }, { simd: true, threads: 2 }, `engineInfo(): ${JSON.stringify(r.info)}`);
    assert.ok(r.started.length >= 1, 'no worker thread was started');
    for (const url of r.started) assert.ok(url.endsWith(`/dist/${worker}`), `worker started from ${url}, expected dist/${worker}`);
    assertNear(r.fast.mm, r.ref.mm, `${file} matmul`);
    assertNear(r.fast.conv, r.ref.conv, `${file} conv2d`);
  });
}

test.run();
