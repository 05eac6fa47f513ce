// Device traffic of one training step of the seed model (32×32×3, batch 8, its two Dropout(0.5), SGD
// with momentum, binary cross-entropy, precision metric) on the gpu backend, per mode, as the backend's
// own stats() counts it: arrays read back and uploaded (and their bytes), kernel runs, 'webgpu' worker
// round trips, and the step time (software renderers: it shows the traffic's cost there, not a GPU's
// speed). A second row per mode ('+clip,wd,l2') adds SGD's clipNorm 1 and weightDecay 1e-4 and an l2
// kernel regularizer on every Conv2D and Dense.
//
//   node --import tsx bench/gpu-traffic.ts [--modes headlessgl,webasm,webgpu] [--steps 5]
//   (headlessgl needs a display: xvfb-run -a; webgpu needs lavapipe's VK_ICD_FILENAMES, see README "WebGPU")
import { setBackend } from '../src/backend/index.js';
import { probeMode, type GpuBackend, type GpuMode } from '../src/backend/gpu/index.js';
import { optimizers, regularizers, setSeed, tensor } from '../src/index.js';
import { buildUserModel } from '../examples/lib/user-model.js';
import { randomBatch } from './models.js';

const argv = process.argv.slice(2);
function option(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const known = ['modes', 'steps'];
for (const a of argv) if (a.startsWith('--') && !known.includes(a.slice(2))) throw new Error(`gpu-traffic: unknown option ${a}; known: ${known.map((k) => `--${k}`).join(', ')}`);
const modes = (option('modes') ?? 'headlessgl,webasm,webgpu').split(',') as GpuMode[];
const steps = Number(option('steps') ?? 5);
if (!Number.isInteger(steps) || steps < 1) throw new Error(`gpu-traffic: --steps must be a positive integer, got ${option('steps')}`);
const SIZE = 32;
const BATCH = 8;

/** The traffic of one step, averaged over `steps` steps after two warm-up steps. */
async function measure(mode: GpuMode, extras: boolean): Promise<Record<string, number | string>> {
  const backend = setBackend('gpu', { mode }) as GpuBackend;
  setSeed(1);
  const model = buildUserModel(SIZE, extras ? { kernelRegularizer: regularizers.l2({ l2: 1e-4 }) } : {});
  const sgd = { learningRate: 1e-4, momentum: 0.9, ...(extras ? { clipNorm: 1, weightDecay: 1e-4 } : {}) };
  model.compile({ optimizer: new optimizers.SGD(sgd), loss: 'binaryCrossentropy', metrics: ['precision'] });
  const batch = (i: number) => {
    const { x, y } = randomBatch(BATCH, SIZE, i);
    return { x: tensor(x, [BATCH, SIZE, SIZE, 3]), y: tensor(y, [BATCH, 1]) };
  };
  for (let i = 1; i <= 2; i++) {
    const { x, y } = batch(i);
    await model.trainOnBatch(x, y);
  }
  const { x: x0 } = batch(1);
  const before = backend.stats();
  let ms = 0;
  for (let i = 0; i < steps; i++) {
    const { x, y } = batch(3 + i);
    const t0 = performance.now();
    await model.trainOnBatch(x, y);
    ms += performance.now() - t0;
  }
  const after = backend.stats();
  const per = (k: keyof ReturnType<GpuBackend['stats']>) => (after[k] - before[k]) / steps;
  const row = {
    mode: extras ? `${mode} +clip,wd,l2` : mode,
    'batch KB': +(x0.size * 4 / 1024).toFixed(1),
    readbacks: per('readbacks'),
    'read KB': +(per('readbackBytes') / 1024).toFixed(1),
    uploads: per('uploads'),
    'upload KB': +(per('uploadBytes') / 1024).toFixed(1),
    kernels: per('kernelRuns'),
    'round trips': per('workerRoundTrips'),
    compiled: per('kernelsCompiled'),
    'step ms': +(ms / steps).toFixed(0),
  };
  return row;
}

const rows: Record<string, number | string>[] = [];
for (const mode of modes) {
  const status = probeMode(mode);
  if (!status.available) {
    console.log(`gpu-traffic: mode '${mode}' skipped: ${status.reason}`);
    continue;
  }
  rows.push(await measure(mode, false));
  rows.push(await measure(mode, true));
}
setBackend('cpu');
console.table(rows);
