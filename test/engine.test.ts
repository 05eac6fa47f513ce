// The WebAssembly engine's job interface (src/backend/wasm/engine.ts): a job's arguments are typed
// by the generated interface (wrong ones do not compile), and a job that fails, on the calling
// thread or on a worker thread, throws at the caller with the job, the message and the stack. A
// job that a worker has not claimed when the calling thread's part returns is taken back: the
// worker never runs it (control.ts CLAIM), and the calling thread runs the part itself, unless
// the job is shared (its threads take work from one counter: nothing is left of it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setBackend } from '../src/backend/index.js';
import { CONV_GEOMETRY, JOB_NAMES, MAX_JOB_ARGS, POOL_GEOMETRY, type JobArgs } from '../src/backend/wasm/engine-exports.generated.js';
import { CLAIM, claimJob, SEQ, SPIN_MS, takeBack, TAKEN } from '../src/backend/wasm/control.js';
import { getEngine, MAX_BYTES, runJobs, takenBackJobs, wakeEngineThreads, type Engine } from '../src/backend/wasm/engine.js';
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

// One control block on this thread, the caller's and the worker's sides played in turn, in the
// orders the two threads can reach CLAIM in. post() is runJobs' side: CLAIM read, then SEQ stored.
test('CLAIM: whoever swaps first wins; a job taken back is never claimed, nor an earlier one, and a later one is', () => {
  const w = new Int32Array(new SharedArrayBuffer(4 * 64));
  const base = 32;
  const claim = () => Atomics.load(w, base + CLAIM);
  const post = (seq: number) => {
    const before = claim();
    Atomics.store(w, base + SEQ, seq);
    return before;
  };
  // Job 1: the worker claims it; the caller then cannot take it back (it waits for DONE).
  let before = post(1);
  assert.is(claimJob(w, base), 1, 'the worker claims job 1');
  assert.not.ok(takeBack(w, base, 1, before), 'job 1, claimed, is not taken back');
  assert.is(claim(), 1);
  // Job 2: the caller takes it back first; the worker, coming late, does not run it.
  before = post(2);
  assert.ok(takeBack(w, base, 2, before), 'job 2 is taken back');
  assert.is(claim(), 2 | TAKEN);
  assert.is(claimJob(w, base), -2, 'the worker does not claim job 2 once taken back');
  assert.is(claimJob(w, base), -2, '... however often it looks');
  // Job 3, posted after job 2 was taken back: claimed.
  before = post(3);
  assert.is(claimJob(w, base), 3, 'the worker claims job 3 after job 2 was taken back');
  assert.not.ok(takeBack(w, base, 3, before), 'job 3, claimed, is not taken back');
  // Jobs 4 and 5 taken back before the worker looks (a thread descheduled for two jobs): it
  // claims neither, only job 6. Job numbers need not follow each other in one block (a job with
  // fewer threads skips a worker).
  assert.ok(takeBack(w, base, 4, post(4)));
  assert.ok(takeBack(w, base, 7, post(7)));
  assert.is(claimJob(w, base), -7);
  before = post(9);
  assert.is(claimJob(w, base), 9);
  assert.not.ok(takeBack(w, base, 9, before));
  // A caller whose `before` is stale (the worker claimed in between) does not take the job back.
  assert.not.ok(takeBack(w, base, 10, 7 | TAKEN));
  // The largest SEQ (engine.ts wraps at 0x3fffffff) and the wrap to 1.
  assert.ok(takeBack(w, base, 0x3fffffff, post(0x3fffffff)));
  assert.is(claimJob(w, base), -0x3fffffff);
  post(1);
  assert.is(claimJob(w, base), 1, 'SEQ 1 after the wrap is claimed');
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
      // The worker runs its part, or, when it comes late, this thread takes the part back and runs it.
      assert.match(err!.message, /^wasm engine: job reluForward failed on (worker thread 1|the calling thread \(worker thread 1's part, taken back\)): RuntimeError: memory access out of bounds/);
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

  test('jobs that sleeping workers come late to are taken back: a shared one is found where the loop finds it, a split one runs once, each part on one thread', async () => {
    setBackend('cpu', { threads: 3 });
    try {
      const n = 4096, offA = x, offNext = x + 4 * n, offOut = offNext + 64;
      const a = e.f32.subarray(offA >> 2, (offA >> 2) + n);
      const words = new Int32Array(e.memory.buffer);
      const m = 1000, offP = offOut + 64, offW = offP + 64, offG = offW + 4 * m;
      new Float64Array(e.memory.buffer, offP, 2).set([0.5, 0]);
      const w = e.f32.subarray(offW >> 2, (offW >> 2) + m), g = e.f32.subarray(offG >> 2, (offG >> 2) + m);
      const parts = [[0, 300], [300, 700], [700, 1000]];
      const before = takenBackJobs();
      for (let round = 0; round < 30; round++) {
        a.fill(1);
        const bad = (round * 997 + 5) % n;
        a[bad] = NaN;
        a[(bad + 1234) % n] = -Infinity;
        words[offNext >> 2] = 0;
        words[offOut >> 2] = n;
        // The workers poll for SPIN_MS, then sleep in Atomics.wait: this short job is done here
        // before a sleeping worker wakes, most times.
        await new Promise((r) => setTimeout(r, 2 * SPIN_MS));
        runJobs(e, 'findNonFinite', [0, 1, 2].map(() => [offA, 0, n, 64, offNext, offOut]), true);
        assert.is(words[offOut >> 2], Math.min(bad, (bad + 1234) % n), `round ${round}`);
        // sgdPlain is not idempotent: a part run twice (here and on its worker), or a stale job, shows.
        w.fill(1);
        g.fill(2);
        if (round % 2 === 0) await new Promise((r) => setTimeout(r, 2 * SPIN_MS));
        runJobs(e, 'sgdPlain', parts.map(([i0, i1]) => [offW, offG, i0, i1, offP]));
        for (let i = 0; i < m; i++) if (w[i] !== 0) assert.unreachable(`round ${round}: w[${i}] = ${w[i]}, expected 1 − 0.5·2 = 0 (one update)`);
      }
      assert.ok(takenBackJobs() > before, 'no worker came late in 30 rounds: the take-back path did not run');
      // The rest of the engine's jobs still run on every thread.
      const y = elementwiseFast.relu(Float32Array.from({ length: 1 << 17 }, (_, i) => (i % 3) - 1))!;
      assert.equal(Array.from(y.subarray(0, 6)), [0, 0, 1, 0, 0, 1]);
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
