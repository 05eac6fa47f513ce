// The page side of test/browser.test.ts and the browser bench row: tscnn's browser bundle
// (dist/index.browser.js, served beside this file) and functions the test calls through puppeteer.
// The model is examples/browser/seed-model.js' (examples/lib/user-model.ts' buildUserModel) with dropout 0.
import * as tscnn from './index.browser.js';
import { buildSeedModel } from './seed-model.js';

/** bench/models.ts randomBatch: pixel values in [0, 1) and 0/1 labels from one LCG. */
function randomBatch(batch, size, seed) {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const x = new Float32Array(batch * size * size * 3);
  for (let i = 0; i < x.length; i++) x[i] = next();
  const y = new Float32Array(batch);
  for (let i = 0; i < batch; i++) y[i] = next() < 0.5 ? 0 : 1;
  return { x: tscnn.tensor(x, [batch, size, size, 3]), y: tscnn.tensor(y, [batch, 1]) };
}

/**
 * Trains the seed model `steps` steps on one batch and returns the losses, the first and last
 * weight arrays, what the engine ran on and the step times (ms; the first step excluded from `stepMs`);
 * on 'gpu' the gpu.js mode, the kernel classes its kernels ran on and its device traffic.
 */
async function trainSteps({ backend, threads, size, batch, steps, seed, relaxedSimd = 'off', gpuMode, gpuScript = false }) {
  if (backend === 'cpu') tscnn.setBackend('cpu', { threads, relaxedSimd });
  else if (backend === 'gpu' && gpuScript) {
    // gpu.js' own browser script, added to the page by the test, set window.GPU.
    tscnn.setBackend('gpu', { mode: gpuMode, GPU: globalThis.GPU });
  } else if (backend === 'gpu') {
    await tscnn.loadGpuBackend();
    tscnn.setBackend('gpu', { mode: gpuMode });
  } else tscnn.setBackend('reference');
  const engine = await tscnn.startEngineThreads();
  tscnn.setSeed(seed);
  const model = buildSeedModel(size, 0);
  model.compile({ optimizer: new tscnn.optimizers.SGD({ learningRate: 1e-2 }), loss: 'binaryCrossentropy' });
  const { x, y } = randomBatch(batch, size, seed);
  const losses = [];
  const times = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const logs = await model.trainOnBatch(x, y);
    times.push(performance.now() - t0);
    losses.push(logs.loss);
  }
  const b = tscnn.getBackend();
  // Before the weights are read back.
  const gpu = backend === 'gpu' ? { name: b.name, mode: b.mode, kernelClasses: b.kernelClasses(), stats: b.stats() } : null;
  const w = model.getWeightValues();
  return {
    gpu,
    losses,
    first: Array.from(w[0]),
    last: Array.from(w[w.length - 1]),
    engine,
    crossOriginIsolated: self.crossOriginIsolated,
    stepMs: times.slice(1),
  };
}

let benchState = null;

/** For bench/browser.ts: builds the seed model and its batch on the cpu backend (`threads`) or the gpu backend (`gpuMode`). */
async function benchPrepare({ threads, size, batch, seed, gpuMode }) {
  if (gpuMode) {
    await tscnn.loadGpuBackend();
    tscnn.setBackend('gpu', { mode: gpuMode });
  } else tscnn.setBackend('cpu', { threads, relaxedSimd: 'off' });
  const engine = gpuMode ? { backend: tscnn.getBackend().name } : await tscnn.startEngineThreads();
  tscnn.setSeed(seed);
  const model = buildSeedModel(size, 0);
  model.compile({ optimizer: new tscnn.optimizers.SGD({ learningRate: 1e-4 }), loss: 'binaryCrossentropy' });
  benchState = { model, ...randomBatch(batch, size, seed) };
  return { engine, crossOriginIsolated: self.crossOriginIsolated };
}

/** For bench/browser.ts: the gpu.js kernel classes the prepared gpu backend ran on. */
function benchKernelClasses() {
  return tscnn.getBackend().kernelClasses?.() ?? [];
}

/** One training step of the prepared model; its time in ms, measured in the page. */
async function benchStep() {
  const t0 = performance.now();
  await benchState.model.trainOnBatch(benchState.x, benchState.y);
  return performance.now() - t0;
}

globalThis.benchPrepare = benchPrepare;
globalThis.benchStep = benchStep;
globalThis.benchKernelClasses = benchKernelClasses;
globalThis.tscnn = tscnn;
// Functions the test passes to page.evaluate come from tsx, whose esbuild wraps named functions
// in __name(fn, name) (keepNames); the page has no such helper.
globalThis.__name = (fn) => fn;
globalThis.trainSteps = trainSteps;
globalThis.harnessReady = true;
document.getElementById('out').textContent = 'ready';
