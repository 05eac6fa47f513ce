// What the gpu backend does when gpu.js falls back or a mode cannot start, switching backends, and
// the WebGPU device worker (round trips, errors from the worker, dispose).
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBackend, referenceBackend, setBackend } from '../../src/backend/index.js';
import { chooseAuto, createGpuBackend, probeMode, type GpuBackend } from '../../src/backend/gpu/index.js';
import { DeviceResult, startWebGpuWorker } from '../../src/backend/gpu/webgpu-worker.js';
import { modes, rand } from './modes.js';

test('[webasm] a kernel gpu.js quietly runs on the CPU throws, naming the kernel and the reason', () => {
  const b = createGpuBackend({ mode: 'webasm' });
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(' '));
  try {
    const a = Float32Array.of(1, 2, 3);
    const w = Float32Array.of(4, 5, 6);
    const texture = { type: 'NumberTexture', output: [3], size: [3, 1], toArray: () => a };
    assert.throws(
      () => b.matmul(texture as never, w, 1, 3, 1, false, false),
      (e: Error) =>
        /kernel 'matmul' ran on CPUKernel instead of WebAssemblyKernel \(mode 'webasm'\)/.test(e.message) &&
        /argument "a" of type NumberTexture is not supported on the webasm backend/.test(e.message),
    );
    assert.ok(warnings.some((line) => line.includes('Falling back to CPU')), `gpu.js did not fall back: ${JSON.stringify(warnings)}`);
    // The fallen-back kernel is dropped: the same op and shape compiles again in the mode and runs there.
    assert.is(b.liveKernels(), 0);
    assert.equal(Array.from(b.matmul(a, w, 1, 3, 1, false, false)), [32]);
    assert.is(b.liveKernels(), 1);
  } finally {
    console.warn = warn;
    b.dispose();
  }
});

test('[webasm] switching from the gpu backend to another destroys its kernels', () => {
  const b = setBackend('gpu', { mode: 'webasm' }) as GpuBackend;
  try {
    b.multiply(Float32Array.of(1, 2), Float32Array.of(3, 4));
    b.matmul(Float32Array.of(1, 2), Float32Array.of(3, 4), 1, 2, 1, false, false);
    assert.is(b.liveKernels(), 2);
  } finally {
    setBackend('cpu');
  }
  assert.is(b.liveKernels(), 0);
  assert.is(getBackend().name, 'cpu');
});

test('[webasm] a gpu backend that cannot start leaves the active gpu backend usable', () => {
  const b = setBackend('gpu', { mode: 'webasm' }) as GpuBackend;
  try {
    b.multiply(Float32Array.of(1, 2), Float32Array.of(3, 4));
    assert.throws(() => setBackend('gpu', { mode: 'webasm', maxKernels: 0 }), /maxKernels must be a positive integer, got 0/);
    assert.is(getBackend(), b);
    assert.is(b.liveKernels(), 1);
    assert.equal(Array.from(b.multiply(Float32Array.of(1, 2), Float32Array.of(3, 4))), [3, 8]);
  } finally {
    setBackend('cpu');
  }
});

test('a mode asked for but unavailable fails loudly, naming the reason', () => {
  const webgpu = probeMode('webgpu');
  if (!webgpu.available) {
    assert.throws(
      () => setBackend('gpu', { mode: 'webgpu' }),
      (e: Error) => e.message === `gpu backend: mode 'webgpu' cannot start here: ${webgpu.reason}`,
    );
  }
  // @ts-expect-error an unknown mode
  assert.throws(() => setBackend('gpu', { mode: 'cuda' }), /unknown mode 'cuda'/);
  assert.throws(() => setBackend('gpu', { mode: 'webasm', pipeline: true } as never), /unknown option 'pipeline'/);
  setBackend('cpu');
});

// 'webgpu' runs gpu.js in a worker thread that owns the device; what that adds is checked here: round
// trips, the shared buffer growing for large arrays, errors coming back from the worker, dispose ending
// the worker and freeing the device, and the probe's answer where there is no usable adapter.
if (modes.includes('webgpu')) {
  test('[webgpu] compiled kernels run queued, without a round trip; a readback waits for the queue; a host write mid-queue is seen; 20 MB arrays pass through the growing shared buffer', () => {
    const b = createGpuBackend({ mode: 'webgpu' });
    try {
      const trips = () => b.stats().workerRoundTrips;
      let t = trips();
      const product = b.multiply(Float32Array.of(1, 2), Float32Array.of(3, 4));
      assert.is(trips() - t, 1, 'multiply: the first run compiles the kernel, one round trip');
      let p = b.multiply(product, Float32Array.of(2, 3));
      assert.is(trips() - t, 2, 'multiply of a device array: another kernel (another argument kind), compiled in one round trip');
      t = trips();
      for (let i = 0; i < 10; i++) p = b.multiply(p, Float32Array.of(2, 3));
      assert.is(trips() - t, 0, '10 runs of compiled kernels: queued, no round trip');
      assert.equal(Array.from(p), [3 * 2 ** 11, 8 * 3 ** 11]);
      assert.is(trips() - t, 1, 'reading the last result back: one round trip, after everything queued');
      // A host write to a device array between queued runs: the runs queued before it read the old
      // values, the ones after it the new (the host copy, uploaded).
      let q = b.multiply(product, Float32Array.of(2, 3));
      const r = b.multiply(q, Float32Array.of(2, 3));
      q[0] = 5;
      q = b.multiply(q, Float32Array.of(2, 3));
      assert.equal([Array.from(r), Array.from(q)], [[12, 72], [10, 72]], 'runs before and after the host write');
      t = trips();
      const before = b.stats();
      b.batchNormTrain(rand(4 * 3), Float32Array.of(1, 1, 1), Float32Array.of(0, 0, 0), 3, 1e-3);
      const compiled = trips() - t;
      assert.is(compiled, b.stats().kernelsCompiled - before.kernelsCompiled, 'batchNormTrain the first time: one round trip per kernel compiled');
      t = trips();
      const bn = b.batchNormTrain(rand(4 * 3), Float32Array.of(1, 1, 1), Float32Array.of(0, 0, 0), 3, 1e-3);
      const after = b.stats();
      assert.is(after.readbacks - before.readbacks, 0, 'batchNormTrain reads nothing back');
      assert.is(trips() - t, 0, 'batchNormTrain again: its runs are queued');
      assert.is(bn.mean.length, 3);
      assert.ok(Number.isFinite(bn.invStd[2]), 'batchNormTrain result read back');
      assert.is(trips() - t, 1, 'the readback waits once');
      const n = 5_000_000;
      const x = rand(n, -4, 4);
      const y = rand(n, -4, 4);
      const got = b.multiply(x, y);
      const want = referenceBackend.multiply(x, y);
      const diff = want.findIndex((v, i) => !Object.is(v, got[i]));
      assert.is(diff, -1, `20 MB multiply: index ${diff}: ${got[diff]} vs ${want[diff]}`);
      assert.not.ok(got.buffer instanceof SharedArrayBuffer, 'a result must not alias the shared buffer');
      assert.is(b.stats().liveTextures, 0);
    } finally {
      b.dispose();
    }
  });

  test('[webgpu] an error in the worker comes back naming the kernel; the worker keeps serving; dispose ends it', async () => {
    const w = startWebGpuWorker();
    try {
      assert.throws(
        () => w.run('bad', 'bad', 'function bad(a) { return a[this.thread.x] + notDefinedAnywhere; }', 2, {}, [Float32Array.of(1, 2)], false),
        // gpu.js's parser: "Identifier is not defined on line 1, position 0: …"
        (e: Error) => /^gpu backend \(webgpu\): kernel 'bad': Identifier is not defined/.test(e.message),
      );
      const good = w.run('good', 'good', 'function good(a) { return a[this.thread.x] * 2; }', 2, {}, [Float32Array.of(1, 2)], false);
      assert.equal(Array.from(good as Float32Array), [2, 4]);
      assert.ok(w.stats().deviceBuffers > 0);
      // A queued run that fails (its argument was released) is reported by the next request that waits,
      // naming the kernel; the worker destroyed the kernel, so the next run sends its source again.
      const src = 'function twice(a) { return a[this.thread.x] * 2; }';
      const kept = w.run('twice', 'twice', src, 2, {}, [Float32Array.of(1, 2)], true) as DeviceResult;
      w.release([kept]);
      const trips = w.roundTrips;
      w.run('twice|t', 'twice', src, 2, {}, [Float32Array.of(1, 2)], true);
      const lost = w.run('twice|t', 'twice', src, 2, {}, [kept], true);
      assert.is(w.roundTrips - trips, 1, 'the first run compiles (one round trip); the second is queued');
      assert.instance(lost, DeviceResult);
      assert.throws(() => w.flush(), (e: Error) => /^gpu backend \(webgpu\): kernel 'twice' \(a queued run, reported by the next request that waits\): result \d+ is not on the device/.test(e.message));
      const again = w.run('twice|t', 'twice', src, 2, {}, [Float32Array.of(3, 4)], true) as DeviceResult;
      assert.equal(Array.from(w.read(again)), [6, 8], 'the kernel compiled afresh after its queued run failed');
    } finally {
      w.dispose();
    }
    assert.throws(() => w.run('good', 'good', '', 2, {}, [Float32Array.of(1, 2)], false), /the device worker was disposed/);
    const code = await Promise.race([w.exited, new Promise((r) => setTimeout(() => r('still running after 5 s'), 5000).unref())]);
    assert.is(code, 1, 'worker exit code (terminate() ends it with 1)');
  });

  test('[webgpu] switching to another backend disposes the device worker', async () => {
    const b = setBackend('gpu', { mode: 'webgpu' }) as GpuBackend;
    try {
      b.multiply(Float32Array.of(1, 2), Float32Array.of(3, 4));
      assert.is(b.liveKernels(), 1);
    } finally {
      setBackend('cpu');
    }
    assert.is(b.liveKernels(), 0);
    assert.is(b.stats().deviceBuffers, 0);
    assert.throws(() => b.multiply(Float32Array.of(1), Float32Array.of(2)), /the device worker was disposed/);
  });
}

test('webgpu without a usable Vulkan driver is unavailable with the reason, and auto never takes a software adapter', () => {
  const here = probeMode('webgpu');
  if (here.available && here.software) assert.is.not(chooseAuto().mode, 'webgpu', `auto took the software adapter: ${here.reason}`);
  // A child process whose Vulkan loader finds no driver at all.
  const code = "const m = await import('./src/backend/gpu/index.ts'); console.log(JSON.stringify({ probe: m.probeMode('webgpu'), auto: m.chooseAuto().mode }));";
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: new URL('../..', import.meta.url),
    env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const { probe, auto } = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { probe: { available: boolean; reason: string }; auto: string };
  assert.is(probe.available, false, `webgpu available without a Vulkan driver: ${probe.reason}`);
  assert.match(probe.reason, /^requestAdapter\(\) resolved null: (no Vulkan loader|the Vulkan loader found no driver)/);
  assert.is.not(auto, 'webgpu');
});

test.run();
