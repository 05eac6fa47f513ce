// tscnn benchmarks, side by side with TensorFlow.js (wasm and pure-JS cpu backends) in one run.
//
//   npm run bench                    default run (about 3 minutes), writes bench/RESULTS.md
//   npm run bench -- --full          everything, more samples, tfjs cpu's slowest ops and training
//   npm run bench -- --filter conv3  only measurements whose key contains the text
//                                    (keys: layers/conv1.fwd … layers/sigmoid.bwd, e2e/train, e2e/infer,
//                                    native, native/examples, scaling/b8s100 …, controls/apply, controls/step, rss, breakdown,
//                                    photos/decode, photos/fit, photos/rss, browser/cpu, browser/gpu, depthwise/50x50x32.fwd …,
//                                    separable/25x25x64.train …, augment/rotation.fwd …); not written to RESULTS.md
//   npm run bench -- --out FILE      write the Markdown somewhere else
//
// Sections: per-layer ops (forward / backward apart, batch 32, the seed model's shapes), the
// seed model end to end (training step, inference), scaling with batch and image size, peak RSS
// of a training step (fresh child process), and a per-layer breakdown of one training step.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutputArena } from '../src/backend/arena.js';
import { getBackend, listBackends, setBackend, type Backend, type BackendName } from '../src/index.js';
import { measure, pairedRatio, type MeasureOptions, type PairedStats, type Stats } from './harness.js';
import { benchControls } from './controls.js';
import { benchDepthwise } from './depthwise.js';
import { benchAugment } from './augment.js';
import { batchTensors, buildSeedModel, instrument, randomBatch, type LayerTiming } from './models.js';
import { nativeSection } from './native.js';
import { nativeExamplesSection } from './native-examples.js';
import { opSpecs } from './ops.js';
import { median, num, reportLines, type E2E, type Engine, type OpResult, type RssRow, type ScalePoint } from './report.js';
import { buildTfModel, loadPeers, tf, usePeer, verifyWasmFilterGradient, type PeerName } from './peers.js';

// ---------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log('usage: npm run bench [-- --full] [-- --filter TEXT] [-- --out FILE]');
  process.exit(0);
}
function option(name: string): string | undefined {
  const eq = argv.find((a) => a.startsWith(`--${name}=`));
  if (eq) return eq.slice(name.length + 3);
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) {
    const v = argv[i + 1];
    if (!v || v.startsWith('--')) throw new Error(`--${name} needs a value`);
    return v;
  }
  return undefined;
}
const FULL = argv.includes('--full');
const FILTER = option('filter')?.toLowerCase();
const here = path.dirname(fileURLToPath(import.meta.url));
const OUT = option('out') ?? (FILTER ? undefined : path.join(here, 'RESULTS.md'));
const selected = (key: string): boolean => !FILTER || key.toLowerCase().includes(FILTER);

const OP_BUDGET: MeasureOptions = FULL ? { budgetMs: 2500, minSamples: 5, maxSamples: 50 } : { budgetMs: 500, minSamples: 3, maxSamples: 15 };
const STEP_BUDGET: MeasureOptions = FULL ? { budgetMs: 10_000, minSamples: 5, maxSamples: 20 } : { budgetMs: 2500, minSamples: 3, maxSamples: 10 };
/**
 * Default mode spends its samples on the comparison the targets are about (tscnn's default
 * backend vs tfjs-wasm). The secondary engines (other tscnn backends, tfjs cpu) keep their
 * warm-up call as the only sample when it alone takes over a second (three for a model step).
 */
const SECONDARY_OP = 1000;
const SECONDARY_STEP = 3000;
const SCALING_BUDGET: MeasureOptions = FULL ? { budgetMs: 6000, minSamples: 3, maxSamples: 10 } : { budgetMs: 1500, minSamples: 2, maxSamples: 6, singleAboveMs: 4000 };

const started = performance.now();
const log = (msg: string): void => void process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// Set-up: backends and peers

const backendNames = listBackends();
const DEFAULT_BACKEND = getBackend().name as BackendName;
const backends = new Map<string, Backend>();
const backendErrors: string[] = [];
for (const name of backendNames) {
  try {
    backends.set(name, setBackend(name));
  } catch (e) {
    backendErrors.push(`${name}: ${(e as Error).message}`);
  }
}
setBackend(DEFAULT_BACKEND);
const tscnnEngines: Engine[] = [...backends.keys()].map((n) => `tscnn:${n}` as Engine);
const peers: PeerName[] = ['tfjs-wasm', 'tfjs-cpu'];
const isSecondary = (e: Engine): boolean => e !== `tscnn:${DEFAULT_BACKEND}` && e !== 'tfjs-wasm';
function optsFor(e: Engine, base: MeasureOptions, secondaryMs: number, slowOnTfjsCpu = false): MeasureOptions {
  if (!FULL) return isSecondary(e) ? { ...base, singleAboveMs: secondaryMs } : base;
  // --full: everything sampled properly, except tfjs cpu's minutes-long naive kernels: one run.
  return e === 'tfjs-cpu' && slowOnTfjsCpu ? { ...base, singleAboveMs: 10_000 } : base;
}

log('loading tfjs-wasm and checking the supplied Conv2DBackpropFilter against tfjs cpu…');
const wasmInfo = await loadPeers();
const check = await verifyWasmFilterGradient();
if (!(check.maxRelErr < 1e-4)) {
  console.error(
    `ABORT: the Conv2DBackpropFilter supplied to tfjs-wasm disagrees with tfjs cpu's gradient (max relative error ${check.maxRelErr.toExponential(2)} over ${check.cases} cases). ` +
      'tfjs-wasm training numbers would be meaningless; fix bench/peers.ts.',
  );
  process.exit(1);
}
log(`supplied tfjs-wasm Conv2DBackpropFilter agrees with tfjs cpu (max rel. error ${check.maxRelErr.toExponential(1)}, ${check.cases} cases)`);

const notes: string[] = [];
const errors: string[] = [...backendErrors.map((e) => `tscnn backend ${e}`)];

async function timeEngine(engine: Engine, key: string, fn: () => unknown, opts: MeasureOptions): Promise<Stats | undefined> {
  try {
    const s = await measure(`${key} ${engine}`, fn, opts);
    log(`${key.padEnd(22)} ${engine.padEnd(16)} ${num(s.median).padStart(8)} ms  (n=${s.n}${s.single ? ', single run' : ''})`);
    return s;
  } catch (e) {
    const msg = `${key} on ${engine}: ${(e as Error).message}`;
    errors.push(msg);
    log(`ERROR ${msg}`);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Per-layer ops

const opResults: OpResult[] = [];
const specs = opSpecs().filter((s) => selected(`layers/${s.id}`));
for (const spec of specs) {
  const r: OpResult = { spec, stats: new Map(), marks: new Map() };
  for (const engine of tscnnEngines) {
    const b = backends.get(engine.slice(6))!;
    setBackend(engine.slice(6) as BackendName);
    let fn: () => unknown;
    try {
      // Each call inside an output arena, as a model step runs its ops: its outputs reuse the
      // previous call's buffers (the tfjs cells likewise dispose theirs in tidy for the next).
      const op = spec.tscnn(b);
      const arena = new OutputArena();
      fn = () => arena.run(op);
    } catch (e) {
      errors.push(`${spec.id} on ${engine}: ${(e as Error).message}`);
      continue;
    }
    const s = await timeEngine(engine, spec.id, fn, optsFor(engine, OP_BUDGET, SECONDARY_OP));
    if (s?.single) r.marks.set(engine, '†');
    r.stats.set(engine, s);
  }
  setBackend(DEFAULT_BACKEND);
  for (const peer of peers) {
    if (peer === 'tfjs-cpu' && spec.slowOnTfjsCpu === 'skip' && !FULL) {
      r.marks.set(peer, 'skip');
      continue;
    }
    await usePeer(peer);
    const t = spec.tfjs();
    let s = await timeEngine(peer, spec.id, t.fn, optsFor(peer, OP_BUDGET, SECONDARY_OP, spec.slowOnTfjsCpu !== undefined));
    t.dispose();
    if (s && spec.tfjsNote === 'bn-grad') {
      // tf.grads re-runs the forward to record its tape: subtract this engine's forward median.
      const fwd = opResults.find((o) => o.spec.id === spec.id.replace('.bwd', '.fwd'))?.stats.get(peer);
      if (fwd) s = { ...s, median: Math.max(0, s.median - fwd.median), min: Math.max(0, s.min - fwd.median), max: Math.max(0, s.max - fwd.median) };
      r.marks.set(peer, '§');
    }
    if (s?.single) r.marks.set(peer, `${r.marks.get(peer) ?? ''}†`);
    r.stats.set(peer, s);
  }
  opResults.push(r);
}
await usePeer('tfjs-wasm');

// ---------------------------------------------------------------------------------------------
// 2. End to end: the seed model, batch 32, 100×100×3

const E2E_BATCH = 32;
const E2E_SIZE = 100;
const e2e: E2E[] = [];
let breakdown: { timings: LayerTiming[]; step: Stats } | undefined;
const wantTrain = selected('e2e/train');
const wantInfer = selected('e2e/infer');
const wantBreakdown = selected('breakdown');
for (const engine of tscnnEngines) {
  const name = engine.slice(6) as BackendName;
  const isDefault = name === DEFAULT_BACKEND;
  const train = wantTrain || (isDefault && wantBreakdown);
  if (!train && !wantInfer) continue;
  setBackend(name);
  const row: E2E = { engine };
  const model = buildSeedModel(E2E_SIZE);
  const hook = instrument(model);
  const { x, y } = batchTensors(E2E_BATCH, E2E_SIZE);
  if (train) {
    row.train = await timeEngine(engine, 'e2e/train', async () => {
      await model.trainOnBatch(x, y);
      hook.mark();
    }, optsFor(engine, STEP_BUDGET, SECONDARY_STEP));
    if (row.train?.single) row.trainNote = '†';
    if (isDefault && row.train) {
      for (const t of hook.timings) {
        t.fwd.shift(); // the warm-up step
        t.bwd.shift();
      }
      breakdown = { timings: hook.timings, step: row.train };
    }
  }
  if (wantInfer) {
    row.infer = await timeEngine(engine, 'e2e/infer', () => model.predict(x, { batchSize: E2E_BATCH }), optsFor(engine, STEP_BUDGET, SECONDARY_STEP));
    if (row.infer?.single) row.inferNote = '†';
  }
  if (wantTrain || wantInfer) e2e.push(row);
}
setBackend(DEFAULT_BACKEND);
if (wantTrain || wantInfer) {
  for (const peer of peers) {
    await usePeer(peer);
    const row: E2E = { engine: peer };
    const model = buildTfModel(E2E_SIZE);
    const { x, y } = randomBatch(E2E_BATCH, E2E_SIZE);
    const tx = tf.tensor4d(x, [E2E_BATCH, E2E_SIZE, E2E_SIZE, 3]);
    const ty = tf.tensor2d(y, [E2E_BATCH, 1]);
    const slow = optsFor(peer, STEP_BUDGET, SECONDARY_STEP, true);
    if (wantTrain) {
      if (peer === 'tfjs-cpu' && !FULL) row.trainNote = 'skip';
      else {
        row.train = await timeEngine(peer, 'e2e/train', () => model.trainOnBatch(tx, ty), slow);
        if (row.train?.single) row.trainNote = '†';
      }
    }
    if (wantInfer) {
      row.infer = await timeEngine(peer, 'e2e/infer', () => {
        const out = model.predict(tx, { batchSize: E2E_BATCH }) as tf.Tensor;
        out.dataSync();
        out.dispose();
      }, slow);
      if (row.infer?.single) row.inferNote = '†';
    }
    tf.dispose([tx, ty]);
    model.dispose();
    e2e.push(row);
  }
  await usePeer('tfjs-wasm');
}

// Paired: the two model-level targets again, tscnn and tfjs-wasm in alternation (one call of
// each per round), so that a drift in the machine's speed cannot pose as a speed ratio.
// Inference rounds are cheap (~0.2 s) and noisier (a 50 ms call against a 150 ms one): more of them.
const PAIRED_ROUNDS = { train: FULL ? 15 : 7, infer: FULL ? 41 : 21 };
const paired: { train?: PairedStats; infer?: PairedStats } = {};
if ((wantTrain || wantInfer) && peers.includes('tfjs-wasm')) {
  setBackend(DEFAULT_BACKEND);
  await usePeer('tfjs-wasm');
  const ours = buildSeedModel(E2E_SIZE);
  const { x, y } = batchTensors(E2E_BATCH, E2E_SIZE);
  const theirs = buildTfModel(E2E_SIZE);
  const b = randomBatch(E2E_BATCH, E2E_SIZE);
  const tx = tf.tensor4d(b.x, [E2E_BATCH, E2E_SIZE, E2E_SIZE, 3]);
  const ty = tf.tensor2d(b.y, [E2E_BATCH, 1]);
  const pair = async (key: string, a: () => unknown, c: () => unknown, rounds: number): Promise<PairedStats | undefined> => {
    try {
      const r = await pairedRatio(key, a, c, rounds);
      log(`${key.padEnd(22)} paired tfjs-wasm ÷ tscnn:${DEFAULT_BACKEND} = ${num(r.median)}× (${num(r.min)}–${num(r.max)}, ${r.rounds} rounds)`);
      return r;
    } catch (e) {
      errors.push(`${key} paired: ${(e as Error).message}`);
      return undefined;
    }
  };
  if (wantTrain) paired.train = await pair('e2e/train', () => ours.trainOnBatch(x, y), () => theirs.trainOnBatch(tx, ty), PAIRED_ROUNDS.train);
  if (wantInfer) {
    paired.infer = await pair('e2e/infer', () => ours.predict(x, { batchSize: E2E_BATCH }), () => {
      const out = theirs.predict(tx, { batchSize: E2E_BATCH }) as tf.Tensor;
      out.dataSync();
      out.dispose();
    }, PAIRED_ROUNDS.infer);
  }
  tf.dispose([tx, ty]);
  theirs.dispose();
}

// Paired, per convolution op: the tscnn op against tfjs-wasm's forward convolution of the same
// shape (the target's yardstick), in alternation, for the same reason as above.
const CONV_ROUNDS = FULL ? 21 : 9;
const convPaired = new Map<string, PairedStats>();
const convSpecs = specs.filter((sp) => sp.layer.startsWith('Conv2D'));
if (convSpecs.length && peers.includes('tfjs-wasm')) {
  setBackend(DEFAULT_BACKEND);
  await usePeer('tfjs-wasm');
  const b = backends.get(DEFAULT_BACKEND)!;
  for (const sp of convSpecs) {
    const fwd = specs.find((o) => o.id === sp.id.replace(/\.\w+$/, '.fwd'));
    if (!fwd) continue;
    const op = sp.tscnn(b);
    const arena = new OutputArena();
    const theirs = fwd.tfjs();
    try {
      const r = await pairedRatio(`${sp.id} paired`, () => arena.run(op), theirs.fn, CONV_ROUNDS);
      convPaired.set(sp.id, r);
      log(`${sp.id.padEnd(22)} paired tfjs-wasm fwd ÷ tscnn:${DEFAULT_BACKEND} = ${num(r.median)}× (${num(r.min)}–${num(r.max)}, ${r.rounds} rounds)`);
    } catch (e) {
      errors.push(`${sp.id} paired: ${(e as Error).message}`);
    } finally {
      theirs.dispose();
    }
  }
}

// Native engines (ONNX Runtime, PyTorch CPU): bench/native.ts, rows skipped with a note where missing.
let nativeMd: string[] = [];
if (selected('native')) {
  setBackend(DEFAULT_BACKEND);
  try {
    nativeMd = await nativeSection({ size: E2E_SIZE, batch: E2E_BATCH, rounds: FULL ? { infer: 31, train: 15 } : { infer: 15, train: 7 }, layerRuns: FULL ? 20 : 10, threads: 2, log });
  } catch (e) {
    errors.push(`native engines: ${(e as Error).message}`);
  }
}
if (selected('native/examples')) {
  setBackend(DEFAULT_BACKEND);
  try {
    nativeMd.push(...(await nativeExamplesSection({ batch: E2E_BATCH, rounds: FULL ? 31 : 15, threads: 2, log })));
  } catch (e) {
    errors.push(`native engines, example networks: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Scaling: training step on the default backend vs batch and image size

const scaling: ScalePoint[] = [];
if (['b1s100', 'b8s100', 'b32s100', 'b128s100', 'b32s64', 'b32s200'].some((k) => selected(`scaling/${k}`))) {
  setBackend(DEFAULT_BACKEND);
  const models = new Map<number, ReturnType<typeof buildSeedModel>>();
  const point = async (batch: number, size: number): Promise<void> => {
    const key = `scaling/b${batch}s${size}`;
    let model = models.get(size);
    if (!model) models.set(size, (model = buildSeedModel(size)));
    const { x, y } = batchTensors(batch, size, 3);
    const m = model;
    scaling.push({ batch, size, stats: await timeEngine(`tscnn:${DEFAULT_BACKEND}`, key, () => m.trainOnBatch(x, y), SCALING_BUDGET) });
  };
  // Batch 32 at 100×100 is the end-to-end measurement when that ran.
  const ref = e2e.find((r) => r.engine === `tscnn:${DEFAULT_BACKEND}`)?.train;
  if (ref) scaling.push({ batch: E2E_BATCH, size: E2E_SIZE, stats: ref });
  else await point(E2E_BATCH, E2E_SIZE);
  const base = scaling[0]?.stats;
  // Batch 128 by default only when a batch-32 step is quick; --full always runs it.
  const with128 = FULL || (base !== undefined && base.median < 1500);
  for (const [batch, size] of [[1, 100], [8, 100], [128, 100], [32, 64], [32, 200]] as const) {
    if (batch === 128 && !with128) continue;
    if (selected(`scaling/b${batch}s${size}`)) await point(batch, size);
  }
  if (!with128) notes.push(`Scaling: batch 128 is skipped by default when a batch-32 step takes over 1.5 s (here ${num(base?.median ?? NaN)} ms); \`--full\` runs it.`);
}

setBackend(DEFAULT_BACKEND);
// The depthwise rows' section goes out with the controls' (both paired tables of their own).
const controlsSection = [
  ...(await benchDepthwise(selected, log, peers.includes('tfjs-wasm'))),
  ...(await benchAugment(selected, log, peers.includes('tfjs-wasm'))),
  ...(await benchControls(selected, log)),
];

// ---------------------------------------------------------------------------------------------
// 4. Peak RSS of a training step, each in a fresh child process

const rss: RssRow[] = [];
if (selected('rss')) {
  const engines = [...(FULL ? [...backends.keys()] : [DEFAULT_BACKEND]), 'tfjs-wasm'];
  for (const engine of engines) {
    log(`rss: ${engine} (child process, 2 training steps, batch 32)`);
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'rss.ts'), '--engine', engine, '--batch', '32', '--size', '100', '--steps', '2'], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    const line = child.stdout?.trim().split('\n').pop() ?? '';
    try {
      const r = JSON.parse(line) as { source: string; startMB: number; baselineMB: number; peakMB: number };
      rss.push({ ...r, engine: engine === 'tfjs-wasm' ? engine : `tscnn:${engine}` });
      log(`rss: ${engine} peak ${num(r.peakMB)} MB`);
    } catch {
      const err = (child.stderr || child.error?.message || 'no output').trim().split('\n').slice(-3).join(' ');
      rss.push({ engine, error: err });
      errors.push(`rss ${engine}: ${err}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const elapsed = (performance.now() - started) / 1000;
const md = await reportLines({
  CONV_ROUNDS,
  DEFAULT_BACKEND,
  E2E_BATCH,
  E2E_SIZE,
  FILTER,
  FULL,
  OP_BUDGET,
  PAIRED_ROUNDS,
  SECONDARY_OP,
  SECONDARY_STEP,
  STEP_BUDGET,
  backends,
  breakdown,
  check,
  controlsSection,
  convPaired,
  e2e,
  elapsed,
  errors,
  isSecondary,
  log,
  nativeMd,
  notes,
  opResults,
  paired,
  peers,
  rss,
  scaling,
  selected,
  tscnnEngines,
  wasmInfo,
});
const text = md.join('\n');
console.log(text);
if (OUT) {
  writeFileSync(OUT, text);
  log(`written to ${path.relative(process.cwd(), OUT)}; total ${num((performance.now() - started) / 1000)} s`);
} else log(`(--filter given: results printed, not written; pass --out FILE to save) total ${num((performance.now() - started) / 1000)} s`);
// The fast CPU path may keep worker threads alive; the run is over.
process.exit(0);
