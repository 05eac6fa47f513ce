// The WebAssembly engine's job interface (src/backend/wasm/engine.ts): a job's arguments are typed
// by the generated interface (wrong ones do not compile), and a job that fails, on the calling
// thread or on a worker thread, throws at the caller with the job, the message and the stack.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setBackend } from '../src/backend/index.js';
import { CONV_GEOMETRY, JOB_NAMES, MAX_JOB_ARGS, POOL_GEOMETRY, type JobArgs } from '../src/backend/wasm/engine-exports.generated.js';
import { getEngine, MAX_BYTES, runJobs, wakeEngineThreads, type Engine } from '../src/backend/wasm/engine.js';
import { elementwiseFast } from '../src/backend/wasm/elementwise-fast.js';

const e = getEngine();

// Never called: these lines are checked by `npm run typecheck` only.
function typeChecks(en: Engine): void {
  // @ts-expect-error reluForward takes (x, i0, i1, y): three arguments are too few
  runJobs(en, 'reluForward', [[0, 0, 16]]);
  // @ts-expect-error relu is a bool in asm/pool.ts: 0 | 1, not 2
  runJobs(en, 'bnActMaxPool', [[0, 0, 1, 0, 0, 0, 0, 2]]);
  // @ts-expect-error no such export
  runJobs(en, 'convForwardFast', [[0]]);
  // @ts-expect-error heapBase returns a value: not a job
  runJobs(en, 'heapBase', [[]]);
  const ok: JobArgs<'maxPool'> = [0, 0, 1];
  runJobs(en, 'maxPool', [ok]);
}
void typeChecks;

test('the generated interface: one job per void export, argument words enough for the longest, geometry offsets distinct', () => {
  assert.ok(JOB_NAMES.includes('gemm') && JOB_NAMES.includes('convForwardWinograd4') && JOB_NAMES.includes('scatterPooledGrad'));
  assert.not.ok((JOB_NAMES as readonly string[]).includes('heapBase'), 'value-returning exports are not jobs');
  assert.is(MAX_JOB_ARGS, 13, 'gemm and bnActPoolBackwardApply take 13');
  for (const g of [CONV_GEOMETRY, POOL_GEOMETRY]) {
    const words = Object.values(g);
    assert.is(new Set(words).size, words.length, JSON.stringify(g));
  }
});

if (e === null) {
  test('engine tests skipped: no WebAssembly SIMD / shared memory here', () => {});
} else {
  // A pointer past the end of the memory: the kernel traps with "memory access out of bounds".
  const bad = MAX_BYTES - 64;
  const x = e.workBase;

  test('a job that traps on a worker thread throws here with the job name, the message and the worker stack', () => {
    setBackend('cpu', { threads: 2 });
    try {
      let err: Error | null = null;
      try {
        runJobs(e, 'reluForward', [[x, 0, 16, x], [bad, 0, 1024, x]]);
      } catch (caught) {
        err = caught as Error;
      }
      assert.ok(err, 'threw');
      assert.match(err!.message, /^wasm engine: job reluForward failed on worker thread 1: RuntimeError: memory access out of bounds/);
      assert.match(err!.stack ?? '', /caused in the worker by: RuntimeError: memory access out of bounds\n\s+at .*wasm/, err!.stack);
      // The engine goes on: the next jobs on both threads run.
      const n = 1 << 17;
      const input = Float32Array.from({ length: n }, (_, i) => (i % 3) - 1);
      const y = elementwiseFast.relu(input)!;
      assert.equal(Array.from(y.subarray(0, 6)), [0, 0, 1, 0, 0, 1]);
      assert.is(y[n - 1], Math.max(0, ((n - 1) % 3) - 1));
    } finally {
      setBackend('cpu');
    }
  });

  test('woken without a job (wakeEngineThreads), the workers run none: each next job runs once on each thread', async () => {
    setBackend('cpu', { threads: 3 });
    try {
      // sgdPlain is not idempotent (w -= lr·g): a job run twice, or a stale one run again, shows.
      const n = 1000, offP = x, offW = x + 64, offG = offW + 4 * n;
      new Float64Array(e.memory.buffer, offP, 2).set([0.5, 0]);
      const w = e.f32.subarray(offW >> 2, (offW >> 2) + n), g = e.f32.subarray(offG >> 2, (offG >> 2) + n);
      const parts = [[0, 300], [300, 700], [700, 1000]];
      for (let round = 0; round < 3; round++) {
        w.fill(1);
        g.fill(2);
        wakeEngineThreads();
        await new Promise((r) => setTimeout(r, 5));
        wakeEngineThreads();
        runJobs(e, 'sgdPlain', parts.map(([i0, i1]) => [offW, offG, i0, i1, offP]));
        wakeEngineThreads();
        for (let i = 0; i < n; i++) if (w[i] !== 0) assert.unreachable(`round ${round}: w[${i}] = ${w[i]}, expected 1 − 0.5·2 = 0 (one update)`);
      }
    } finally {
      setBackend('cpu');
    }
  });

  test('a job that traps on the calling thread throws with the job name; the workers still finish theirs', () => {
    setBackend('cpu', { threads: 2 });
    try {
      assert.throws(() => runJobs(e, 'reluForward', [[bad, 0, 1024, x], [x, 0, 16, x]]), /job reluForward failed on the calling thread: RuntimeError: memory access out of bounds/);
      runJobs(e, 'reluForward', [[x, 0, 16, x], [x, 16, 32, x]]);
    } finally {
      setBackend('cpu');
    }
  });
}

test.run();
