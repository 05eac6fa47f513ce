// tscnn benchmarks, side by side with TensorFlow.js (wasm and pure-JS cpu backends) in one run.
//
//   npm run bench                    default run (about 3 minutes), writes bench/RESULTS.md
//   npm run bench -- --full          everything, more samples, tfjs cpu's slowest ops and training
//   npm run bench -- --filter conv3  only measurements whose key contains the text
//                                    (keys: layers/conv1.fwd … layers/sigmoid.bwd, e2e/train, e2e/infer,
//                                    native, scaling/b8s100 …, controls/apply, controls/step, rss, breakdown,
//                                    photos/decode, photos/fit, photos/rss); not written to RESULTS.md
//   npm run bench -- --out FILE      write the Markdown somewhere else
//
// Sections: per-layer ops (forward / backward apart, batch 32, the seed model's shapes), the
// seed model end to end (training step, inference), scaling with batch and image size, peak RSS
// of a training step (fresh child process), and a per-layer breakdown of one training step.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutputArena } from '../src/backend/arena.js';
import { engineInfo, getBackend, listBackends, setBackend, type Backend, type BackendName } from '../src/index.js';
import { measure, pairedRatio, type MeasureOptions, type PairedStats, type Stats } from './harness.js';
import { benchControls } from './controls.js';
import { batchTensors, buildSeedModel, instrument, randomBatch, type LayerTiming } from './models.js';
import { nativeSection } from './native.js';
import { opSpecs, type OpSpec } from './ops.js';
import { photoBench } from './photos.js';
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
// Formatting

function num(v: number): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}
const msCell = (s: Stats | undefined, mark = ''): string => (s ? `${num(s.median)}${mark} (${num(s.min)}–${num(s.max)})` : '—');
const ratio = (peer: number | undefined, ours: number | undefined): string => (peer && ours ? `${num(peer / ours)}×` : '—');
const gflops = (flops: number, ms: number | undefined): string => (flops && ms ? num(flops / (ms * 1e6)) : '—');
function table(head: string[], rows: string[][], align?: string[]): string {
  const sep = align ?? head.map((_, i) => (i === 0 ? ':--' : '--:'));
  return [`| ${head.join(' | ')} |`, `| ${sep.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// ---------------------------------------------------------------------------------------------
// Set-up: backends and peers

type Engine = `tscnn:${string}` | PeerName;
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

interface OpResult {
  spec: OpSpec;
  stats: Map<Engine, Stats | undefined>;
  marks: Map<Engine, string>;
}
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

interface E2E {
  engine: Engine;
  train?: Stats;
  infer?: Stats;
  trainNote?: string;
  inferNote?: string;
}
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

// ---------------------------------------------------------------------------------------------
// 3. Scaling: training step on the default backend vs batch and image size

interface ScalePoint {
  batch: number;
  size: number;
  stats?: Stats;
}
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
const controlsSection = await benchControls(selected, log);

// ---------------------------------------------------------------------------------------------
// 4. Peak RSS of a training step, each in a fresh child process

interface RssRow {
  engine: string;
  source?: string;
  startMB?: number;
  baselineMB?: number;
  peakMB?: number;
  error?: string;
}
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
const cpus = os.cpus();
const md: string[] = [];
const SINGLE_NOTE = FULL
  ? "† one run only: tfjs-cpu's naive kernels that take over 10 s (the warm-up call is kept as the sample)."
  : `† one run only (default mode): the secondary engines (${[...tscnnEngines.filter(isSecondary), 'tfjs-cpu'].join(', ')}) keep their warm-up call as the only sample when it takes over ${SECONDARY_OP / 1000} s (${SECONDARY_STEP / 1000} s for a model step); tscnn:${DEFAULT_BACKEND} and tfjs-wasm always get ≥ 3 samples after a warm-up. \`--full\` samples everything.`;
md.push('# tscnn benchmarks');
md.push('');
md.push(`Generated by \`npm run bench${FULL ? ' -- --full' : ''}${FILTER ? ` -- --filter ${FILTER}` : ''}\` on ${new Date().toISOString()} (run took ${num(elapsed)} s).`);
md.push('');
md.push(`- Machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} logical cores (os.availableParallelism ${os.availableParallelism()}), ${num(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.release()}`);
md.push(`- Node ${process.version}; tscnn backends: ${[...backends.keys()].map((n) => (n === DEFAULT_BACKEND ? `**${n}** (default)` : n)).join(', ')}`);
{
  const g = engineInfo();
  md.push(`- tscnn WebAssembly: ${g.simd ? `SIMD, ${g.relaxedSimd ? 'relaxed SIMD (fused multiply-add)' : 'plain SIMD (relaxedSimd off, or auto where this Node does not accept relaxed SIMD)'}, ${g.threads} threads` : 'not available (TypeScript fallback)'}`);
}
md.push(`- Peers in the same process: TensorFlow.js ${tf.version.tfjs} — \`tfjs-wasm\` (@tensorflow/tfjs-backend-wasm, XNNPACK, SIMD ${wasmInfo.simd ? 'on' : 'off'}, ${wasmInfo.threads ? 'multi-threaded' : 'one thread'}) and \`tfjs-cpu\` (pure JS).`);
md.push(
  `- **tfjs-wasm has no Conv2DBackpropFilter kernel; this bench supplies one** (bench/peers.ts), built from tfjs-wasm's own kernels: the input transposed to [C,H,W,N] and padded, convolved (wasm Conv2D, stride as dilation) with the output gradient transposed to [OH,OW,N,O], the result transposed back to [kh,kw,C,O]. Checked against tfjs cpu's kernel at start-up on ${check.cases} cases ('same'/'valid', strides 1 and 2): max relative error ${check.maxRelErr.toExponential(1)}. All tfjs-wasm filter-gradient and training numbers use it.`,
);
md.push(`- Timing: tinybench ${FULL ? '(--full)' : '(default mode)'}; one timed warm-up call sizes each run, then ≥${OP_BUDGET.minSamples} samples for ops (≥${STEP_BUDGET.minSamples} for model steps). Cells: **median ms (min–max)**. GFLOP/s counts 2·MACs. Speed ratio = peer time ÷ tscnn time (> 1: tscnn is faster).`);
md.push('');

if (opResults.length) {
  md.push(`## Per-layer ops (batch ${32}, the seed model's shapes)`);
  md.push('');
  const head = ['Op', 'Pass', 'Shape', 'GFLOP'];
  for (const e of [...tscnnEngines, ...peers]) head.push(`${e} ms`, 'GFLOP/s');
  for (const e of tscnnEngines) for (const p of peers) head.push(`${e.slice(6)} vs ${p}`);
  const rows = opResults.map((r) => {
    const row = [r.spec.layer, r.spec.pass, r.spec.shape, r.spec.flops ? num(r.spec.flops / 1e9) : '—'];
    for (const e of [...tscnnEngines, ...peers]) {
      const mark = r.marks.get(e);
      if (mark === 'skip') row.push('skipped*', '—');
      else {
        const s = r.stats.get(e);
        row.push(s ? msCell(s, mark ?? '') : 'error', r.spec.flops ? gflops(r.spec.flops, s?.median) : '—');
      }
    }
    for (const e of tscnnEngines) for (const p of peers) row.push(ratio(r.stats.get(p)?.median, r.stats.get(e)?.median));
    return row;
  });
  md.push(table(head, rows, head.map((_, i) => (i < 3 ? ':--' : '--:'))));
  md.push('');
  md.push('Ops: tscnn cells call the backend op directly, each call inside an output arena as a model step does (src/backend/arena.ts: outputs reuse the previous call\'s buffers, as the tfjs cells\' tidy frees theirs for the next call; on the cpu backend large outputs are written straight into resident regions of its WebAssembly memory, and its large inputs are resident copies made once before timing, as the previous op\'s output is in a model step and as tfjs\'s input tensors live in its heap) (`conv2d`, `conv2dBackpropInput`, `conv2dBackpropFilter`, `maxPool`, `maxPoolBackprop`, `batchNormTrain`, `batchNormBackward`, `matmul`+`biasAdd`, `matmul`×2+`biasGrad`, `activation`, `activationBackward`); tfjs cells run the same kernels (`Conv2D`, `Conv2DBackpropInput`, `Conv2DBackpropFilter`, `MaxPool`, `MaxPoolGrad`, fused `MatMul`+bias, `Relu`/`Sigmoid`) or tfjs\' own registered gradient functions (Dense, activations).');
  const marks = new Set(opResults.flatMap((r) => [...r.marks.values()]));
  if (marks.has('skip')) {
    md.push('', "\\* skipped by default: tfjs-cpu's Conv2DBackpropFilter is a naive loop (≈ 6–8 s per image at these shapes: minutes per layer at batch 32) and its BatchNormalization gradient on [32,100,100,16] takes ≈ 20 s; `--full` runs them once.");
  }
  if ([...marks].some((m) => m.includes('†'))) md.push('', SINGLE_NOTE);
  if (marks.has('§')) md.push('', '§ BatchNormalization backward in tfjs: `tf.grads` of (moments + batchNorm) minus the forward median (tfjs records the forward on its tape and cannot replay it alone); min/max shifted by the same amount.');
  md.push('');
}

if (e2e.length) {
  md.push(`## End to end: the seed model, batch ${E2E_BATCH}, ${E2E_SIZE}×${E2E_SIZE}×3`);
  md.push('');
  const wasm = e2e.find((r) => r.engine === 'tfjs-wasm');
  const tfcpu = e2e.find((r) => r.engine === 'tfjs-cpu');
  const head = ['Engine', 'Training step ms', 'Train images/s', 'Inference ms', 'Inference images/s', 'Train vs tfjs-wasm', 'Inference vs tfjs-wasm', 'Inference vs tfjs-cpu'];
  const rows = e2e.map((r) => [
    r.engine,
    r.trainNote === 'skip' ? 'skipped*' : msCell(r.train, r.trainNote ?? ''),
    r.train ? num((E2E_BATCH * 1000) / r.train.median) : '—',
    msCell(r.infer, r.inferNote ?? ''),
    r.infer ? num((E2E_BATCH * 1000) / r.infer.median) : '—',
    r.engine.startsWith('tscnn') ? ratio(wasm?.train?.median, r.train?.median) : '—',
    r.engine.startsWith('tscnn') ? ratio(wasm?.infer?.median, r.infer?.median) : '—',
    r.engine.startsWith('tscnn') ? ratio(tfcpu?.infer?.median, r.infer?.median) : '—',
  ]);
  md.push(table(head, rows));
  md.push('');
  md.push('Training step = forward + backward + SGD update of one batch (`model.trainOnBatch`, both libraries; tscnn also updates its precision/recall/accuracy metrics). Inference = `model.predict` of the batch. tfjs-wasm trains with the supplied Conv2DBackpropFilter.');
  if (tfcpu?.trainNote === 'skip') md.push('', '\\* tfjs-cpu training is not run by default (its naive filter gradient makes one step take minutes); `--full` runs one step.');
  if (e2e.some((r) => r.inferNote === '†' || r.trainNote === '†')) md.push('', SINGLE_NOTE);
  md.push('');
}
md.push(...nativeMd);

if (scaling.length) {
  md.push(`## Scaling: training step on tscnn:${DEFAULT_BACKEND}`);
  md.push('');
  const base = scaling.find((p) => p.batch === 32 && p.size === 100)?.stats;
  const rows = scaling
    .sort((a, b) => a.size - b.size || a.batch - b.batch)
    .map((p) => {
      const work = p.batch * p.size * p.size;
      const rel = base && p.stats ? `${num(p.stats.median / base.median)}× time for ${num(work / (32 * 100 * 100))}× pixels` : '—';
      return [`${p.batch}`, `${p.size}×${p.size}`, msCell(p.stats, p.stats?.single ? '†' : ''), p.stats ? num(p.stats.median / p.batch) : '—', p.stats ? num((p.batch * 1000) / p.stats.median) : '—', rel];
    });
  md.push(table(['Batch', 'Image', 'Step ms', 'ms / image', 'Images/s', 'vs batch 32 at 100×100'], rows));
  if (scaling.some((p) => p.stats?.single)) md.push('', '† one run only (default mode keeps the warm-up call as the sample when it takes over 4 s).');
  md.push('');
}
for (const n of notes) md.push(n, '');

if (rss.length) {
  md.push('## Peak memory of a training step (batch 32, 100×100×3)');
  md.push('');
  const mbCell = (v: number | undefined): string => (v !== undefined ? num(v) : '—');
  const rows = rss.map((r) =>
    r.error
      ? [r.engine, `error: ${r.error.slice(0, 100)}`, '', '', '']
      : [r.engine, mbCell(r.startMB), mbCell(r.baselineMB), `**${mbCell(r.peakMB)}**`, r.peakMB !== undefined && r.baselineMB !== undefined ? num(r.peakMB - r.baselineMB) : '—'],
  );
  md.push(table(['Engine', 'Node + tsx, before the library (MB)', 'Library loaded, model built, batch made (MB)', 'Peak after 2 training steps (MB)', 'Added by the steps (MB)'], rows));
  md.push('');
  const src = rss.find((r) => r.source)?.source;
  md.push(
    `Each row is a fresh \`node --import tsx bench/rss.ts\` process; the figures are the peak resident set so far (${src === 'VmHWM' ? 'VmHWM from /proc/self/status; `process.resourceUsage().maxRSS` would inherit the parent\'s size across fork+exec on Linux' : '`process.resourceUsage().maxRSS`'}; worker threads and wasm memory included), read before the library is imported, before the first training step, and after the second.`,
  );
  md.push('');
}

if (breakdown) {
  md.push(`## Where one training step goes (tscnn:${DEFAULT_BACKEND}, batch ${E2E_BATCH}, ${E2E_SIZE}×${E2E_SIZE}×3)`);
  md.push('');
  const step = breakdown.step.median;
  let sumF = 0;
  let sumB = 0;
  const rows = breakdown.timings.map((t) => {
    const f = median(t.fwd);
    const b = median(t.bwd);
    sumF += f;
    sumB += b;
    return [`${t.name}`, t.className, t.outputShape, num(f), num(b), num(f + b), `${num((100 * (f + b)) / step)} %`];
  });
  rows.push(['(layers total)', '', '', num(sumF), num(sumB), num(sumF + sumB), `${num((100 * (sumF + sumB)) / step)} %`]);
  rows.push(['(loss, metrics, SGD update, checks)', '', '', '', '', num(step - sumF - sumB), `${num((100 * (step - sumF - sumB)) / step)} %`]);
  rows.push(['**step (median)**', '', '', '', '', `**${num(step)}**`, '100 %']);
  md.push(table(['Layer', 'Class', 'Output', 'Forward ms', 'Backward ms', 'Total ms', 'Share'], rows));
  md.push('');
  md.push(`Per-layer medians over the ${breakdown.timings[0]?.fwd.length ?? 0} timed steps of the end-to-end run, from timers wrapped around each layer's and each fused unit's \`forward\`/\`backward\` by the bench (src untouched). Activations fused into Conv2D/Dense count in their layer; a fused run (src/model/fusion.ts, \`model.fusionPlan()\`: one fused call forward, one backward) holds the whole run's time in its first layer's row, and the rows of the layers it absorbed read 0.`);
  md.push('');
}

// Targets of issue 5, as measured in this run.
{
  const ours = e2e.find((r) => r.engine === `tscnn:${DEFAULT_BACKEND}`);
  const wasm = e2e.find((r) => r.engine === 'tfjs-wasm');
  const lines: string[][] = [];
  // The verdict comes from the paired rounds where they ran (see pairedRatio); the ratio of the
  // two separate medians is shown beside it.
  const modelTarget = (what: string, want: number, p: PairedStats | undefined, a: Stats | undefined, b: Stats | undefined): void => {
    const separate = a && b ? b.median / a.median : undefined;
    if (!p && separate === undefined) return;
    const x = p ? p.median : separate!;
    const shown = [
      p ? `${num(p.median)}× paired (${num(p.min)}–${num(p.max)} over ${p.rounds} rounds)` : '',
      separate !== undefined ? `${num(separate)}× from the separate medians` : '',
    ].filter(Boolean).join('; ');
    lines.push([`${what} ≥ ${want}× tfjs-wasm`, shown, x >= want ? 'met' : 'not met']);
  };
  modelTarget('Training images/s', 5, paired.train, ours?.train, wasm?.train);
  modelTarget('Inference images/s', 2, paired.infer, ours?.infer, wasm?.infer);
  const convRows = opResults.filter((r) => r.spec.layer.startsWith('Conv2D'));
  if (convRows.length) {
    // Same FLOPs on both sides, so GFLOP/s ≥ tfjs-wasm's forward ⇔ time ratio tfjs fwd ÷ tscnn op ≥ 1.
    // The verdict is the paired ratio where it ran; the separate medians' ratio is listed beside it.
    const below: string[] = [];
    let ok = true;
    let worst: { id: string; x: number } | null = null;
    for (const r of convRows) {
      const fwdWasm = opResults.find((o) => o.spec.id === r.spec.id.replace(/\.\w+$/, '.fwd'))?.stats.get('tfjs-wasm')?.median;
      const mine = r.stats.get(`tscnn:${DEFAULT_BACKEND}`)?.median;
      const p = convPaired.get(r.spec.id);
      const separate = fwdWasm && mine ? fwdWasm / mine : undefined;
      const x = p ? p.median : separate;
      if (x === undefined) continue;
      if (!worst || x < worst.x) worst = { id: r.spec.id, x };
      if (x < 1) {
        ok = false;
        below.push(`${r.spec.id} ${num(x)}×${p && separate !== undefined ? ` (separate medians ${num(separate)}×)` : ''}`);
      }
    }
    const shown = below.length ? `below: ${below.join('; ')}` : worst ? `all ≥ 1×; lowest ${worst.id} ${num(worst.x)}×${convPaired.size ? ' paired' : ''}` : '—';
    lines.push(['Every conv op (fwd, dx, dW) ≥ tfjs-wasm forward conv GFLOP/s, same shape (time ratio tfjs fwd ÷ tscnn op)', shown, ok ? 'met' : 'not met']);
  }
  const r = rss.find((x) => x.engine === `tscnn:${DEFAULT_BACKEND}`);
  if (r?.peakMB !== undefined) lines.push(['Peak RSS of a training step at batch 32 < 600 MB', `${num(r.peakMB)} MB`, r.peakMB < 600 ? 'met' : 'not met']);
  if (lines.length) {
    md.push(`## Issue 5 targets (tscnn:${DEFAULT_BACKEND}, this run)`);
    md.push('');
    md.push(table(['Target', 'Measured', ''], lines));
    md.push('');
    if (paired.train || paired.infer || convPaired.size) {
      md.push(`"Paired": the two sides timed in alternation, one call of each per round (${PAIRED_ROUNDS.train} rounds for training, ${PAIRED_ROUNDS.infer} for inference, ${CONV_ROUNDS} per conv op against tfjs-wasm's forward convolution of the same shape) after one untimed call each; the ratio is taken within each round and the median over rounds is the verdict. On these shared machines the speed drifts by 30–50 % over minutes, which the separate medians (measured a minute apart) absorb into the ratio.`);
      md.push('');
    }
  }
}

md.push(...controlsSection);
// Real photos (bench/photos.ts): decoders, fit from a folder vs tensors, peak RSS with a cache file.
try {
  const photos = await photoBench(selected, log);
  if (photos) md.push(photos);
} catch (e) {
  errors.push(`photos: ${e instanceof Error ? e.message : String(e)}`);
}

if (errors.length) {
  md.push('## Errors');
  md.push('');
  for (const e of errors) md.push(`- ${e}`);
  md.push('');
}

const text = md.join('\n');
console.log(text);
if (OUT) {
  writeFileSync(OUT, text);
  log(`written to ${path.relative(process.cwd(), OUT)}; total ${num((performance.now() - started) / 1000)} s`);
} else log(`(--filter given: results printed, not written; pass --out FILE to save) total ${num((performance.now() - started) / 1000)} s`);
// The fast CPU path may keep worker threads alive; the run is over.
process.exit(0);
