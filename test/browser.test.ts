// tscnn in a real browser: the browser bundle (package.json "browser" export) in headless
// Chromium, training the seed model on the cpu backend threaded (cross-origin isolated page),
// single-threaded (a page without COOP/COEP) and on the gpu backend (gpu.js on WebGL2/WebGL, here
// Chromium's SwiftShader), and comparing losses and weights with Node's.
// Skips, saying so, where no Chromium is installed (.ci/run installs Debian's).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setBackend, setSeed, shutdownEngineThreads, startEngineThreads, optimizers } from '../src/index.js';
import { buildUserModel } from '../examples/lib/user-model.js';
import { batchTensors } from '../bench/models.js';
import { findChromium, startHarness, type HarnessSession } from './browser/chromium.js';
import { assertClose } from './helpers.js';

interface PageRun {
  gpu: { name: string; mode: string; kernelClasses: string[]; stats: { kernelRuns: number; readbacks: number; residentArrays: number } } | null;
  losses: number[];
  first: number[];
  last: number[];
  engine: { simd: boolean; threads: number; relaxedSimd: boolean };
  crossOriginIsolated: boolean;
  stepMs: number[];
}

const SIZE = 32;
const BATCH = 8;
const STEPS = 3;
const SEED = 7;

/** The same steps in Node, on the source: the cpu backend with `threads`, or the reference backend (threads 0). */
async function nodeRun(threads: number): Promise<{ losses: number[]; first: Float32Array; last: Float32Array }> {
  if (threads === 0) setBackend('reference');
  else setBackend('cpu', { threads, relaxedSimd: 'off' });
  await startEngineThreads();
  setSeed(SEED);
  const model = buildUserModel(SIZE, { dropoutRate: 0 });
  model.compile({ optimizer: new optimizers.SGD({ learningRate: 1e-2 }), loss: 'binaryCrossentropy' });
  const { x, y } = batchTensors(BATCH, SIZE, SEED);
  const losses: number[] = [];
  for (let i = 0; i < STEPS; i++) losses.push((await model.trainOnBatch(x, y)).loss);
  const w = model.getWeightValues();
  shutdownEngineThreads();
  setBackend('cpu');
  return { losses, first: w[0], last: w[w.length - 1] };
}

const chromium = findChromium();
let session: HarnessSession | null = null;

test.before(async () => {
  if (!chromium) {
    console.log('browser.test: SKIPPED: no Chromium found (/usr/bin/chromium, or set CHROMIUM_PATH; Debian: apt-get install chromium)');
    return;
  }
  session = await startHarness(chromium);
});

test.after(async () => {
  await session?.close();
});

const TOL = { atol: 1e-5, rtol: 1e-4 };

for (const mode of [
  { name: 'cpu threaded (cross-origin isolated)', isolated: true, threads: 2 },
  { name: 'cpu single-threaded (not isolated)', isolated: false, threads: 1 },
]) {
  test(`Chromium ${mode.name}: seed model ${SIZE}×${SIZE}, ${STEPS} SGD steps match Node`, async () => {
    if (!session) return;
    const page = await session.open(mode.isolated);
    try {
      const run = (await page.evaluate(
        (o) => (globalThis as unknown as { trainSteps(o: unknown): Promise<unknown> }).trainSteps(o),
        { backend: 'cpu', threads: mode.threads, size: SIZE, batch: BATCH, steps: STEPS, seed: SEED },
      )) as PageRun;
      assert.is(run.crossOriginIsolated, mode.isolated);
      assert.ok(run.engine.simd, 'the WebAssembly SIMD engine runs in Chromium');
      assert.is(run.engine.threads, mode.threads);
      const node = await nodeRun(mode.threads);
      console.log(`  Chromium ${mode.name}: losses ${run.losses.map((l) => l.toFixed(6)).join(', ')} (Node ${node.losses.map((l) => l.toFixed(6)).join(', ')}); steps ${run.stepMs.map((t) => t.toFixed(0)).join(', ')} ms`);
      assertClose(run.losses, node.losses, TOL, 'losses');
      assert.ok(run.losses[STEPS - 1] !== run.losses[0], 'training changed the loss');
      assertClose(run.first, node.first, TOL, 'first conv kernel after training');
      assertClose(run.last, node.last, TOL, 'last dense bias after training');
    } finally {
      await page.close();
    }
  });
}

// test/gpu/training.test.ts' tolerance for gpu.js against the reference (float32 kernels in another order).
const GPU_TOL = { atol: 1e-3, rtol: 1e-3 };

for (const gpu of [
  { name: 'webgl2 (loadGpuBackend)', mode: 'webgl2', kernelClass: 'WebGL2Kernel', script: false },
  { name: 'webgl (loadGpuBackend)', mode: 'webgl', kernelClass: 'WebGLKernel', script: false },
  { name: "webgl2 (gpu.js' <script>, { GPU: window.GPU })", mode: 'webgl2', kernelClass: 'WebGL2Kernel', script: true },
]) {
  test(`Chromium gpu ${gpu.name}: seed model ${SIZE}×${SIZE}, ${STEPS} SGD steps match Node's reference on ${gpu.kernelClass}`, async () => {
    if (!session) return;
    const page = await session.open(false);
    try {
      if (gpu.script) await page.addScriptTag({ url: 'gpu-browser.min.js' });
      const run = (await page.evaluate(
        (o) => (globalThis as unknown as { trainSteps(o: unknown): Promise<unknown> }).trainSteps(o),
        { backend: 'gpu', gpuMode: gpu.mode, gpuScript: gpu.script, size: SIZE, batch: BATCH, steps: STEPS, seed: SEED },
      )) as PageRun;
      assert.ok(run.gpu, 'the page reports its gpu backend');
      assert.is(run.gpu.name, `gpu:${gpu.mode}`);
      assert.equal(run.gpu.kernelClasses, [gpu.kernelClass], `gpu.js ran every kernel on ${gpu.kernelClass}`);
      assert.ok(run.gpu.stats.kernelRuns > 100, `kernels ran: ${run.gpu.stats.kernelRuns}`);
      // Device-resident arrays as in headlessgl: only the predictions come back, once a step (test/gpu/training.test.ts).
      assert.is(run.gpu.stats.readbacks, STEPS, `readbacks: ${run.gpu.stats.readbacks}`);
      assert.ok(run.gpu.stats.residentArrays > 0, 'weights and optimizer state stay on the device');
      const node = await nodeRun(0);
      console.log(`  Chromium gpu ${gpu.name}: losses ${run.losses.map((l) => l.toFixed(6)).join(', ')} (Node reference ${node.losses.map((l) => l.toFixed(6)).join(', ')}); steps ${run.stepMs.map((t) => t.toFixed(0)).join(', ')} ms`);
      assertClose(run.losses, node.losses, GPU_TOL, 'losses');
      assert.ok(run.losses[STEPS - 1] !== run.losses[0], 'training changed the loss');
      assertClose(run.first, node.first, GPU_TOL, 'first conv kernel after training');
      assertClose(run.last, node.last, GPU_TOL, 'last dense bias after training');
    } finally {
      await page.close();
    }
  });
}

test('Chromium gpu: a Node mode, and setBackend before loadGpuBackend, fail naming what to do', async () => {
  if (!session) return;
  const page = await session.open(false);
  try {
    const messages = await page.evaluate(async () => {
      const t = (globalThis as unknown as { tscnn: typeof import('../src/index.js') }).tscnn;
      const message = (f: () => unknown) => {
        try {
          f();
          return 'no error';
        } catch (e) {
          return (e as Error).message;
        }
      };
      const before = message(() => t.setBackend('gpu', { mode: 'webgl2' }));
      const badGpu = message(() => t.setBackend('gpu', { mode: 'webgl2', GPU: 42 }));
      await t.loadGpuBackend();
      const node = message(() => t.setBackend('gpu', { mode: 'headlessgl' }));
      return { before, badGpu, node, backend: t.getBackend().name };
    });
    assert.match(messages.before, /await loadGpuBackend\(\)/);
    assert.match(messages.badGpu, /option GPU must be gpu\.js' GPU constructor.*42/);
    assert.match(messages.node, /'headlessgl' cannot start here: 'headlessgl' is a Node mode.*'webgl2' or 'webgl'/);
    assert.is(messages.backend, 'cpu', 'the active backend is unchanged');
  } finally {
    await page.close();
  }
});

test('Chromium: threads on a page that is not cross-origin isolated fail naming COOP/COEP', async () => {
  if (!session) return;
  const page = await session.open(false);
  try {
    const message = await page.evaluate(async () => {
      const t = (globalThis as unknown as { tscnn: typeof import('../src/index.js') }).tscnn;
      t.setBackend('cpu', { threads: 2 });
      return t.startEngineThreads().then(() => 'started', (e: Error) => e.message);
    });
    assert.ok(message.includes('cross-origin isolated'), message);
  } finally {
    await page.close();
  }
});

test.run();
