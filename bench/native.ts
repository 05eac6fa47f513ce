// The native peers: ONNX Runtime (onnxruntime-node, in this process) on the file tscnn exports and
// on the one PyTorch exports, and PyTorch CPU itself (bench/torch_peer.py under Debian's
// python3-torch, a child process driven line by line). Each round calls every engine once, in
// turn, and the ratios are taken within the round. PyTorch rows are skipped with a note when
// /usr/bin/python3 (or $TSCNN_BENCH_PYTHON) cannot import torch; ONNX Runtime rows when
// onnxruntime-node is missing.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { getBackend, toOnnx, type Sequential, type Tensor } from '../src/index.js';
import { batchTensors, buildSeedModel } from './models.js';

type Ort = typeof import('onnxruntime-node');
type Fn = () => Promise<unknown>;
const PYTHON = process.env.TSCNN_BENCH_PYTHON ?? '/usr/bin/python3';
const here = path.dirname(fileURLToPath(import.meta.url));

/** What the section needs from the bench runner. */
export interface NativeOptions {
  size: number;
  batch: number;
  rounds: { infer: number; train: number };
  /** Profiled inference runs per engine for the per-layer table. */
  layerRuns: number;
  threads: number;
  log(msg: string): void;
}

/** A PyTorch child process answering one JSON line per command. */
class TorchPeer {
  private readonly lines: AsyncIterator<string>;
  /** The tail of the child's stderr (read as it comes, so that a full pipe cannot block it), for errors. */
  private stderr = '';
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    child.stderr.on('data', (d: Buffer) => void (this.stderr = (this.stderr + d.toString()).slice(-2000)));
  }

  /** Starts the peer, or returns why it cannot run here. */
  static start(): TorchPeer | string {
    if (!existsSync(PYTHON)) return `${PYTHON} not found`;
    const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
    if (probe.status !== 0) return `${PYTHON} cannot import torch (Debian: apt-get install python3-torch): ${probe.stderr.trim().split('\n').pop()}`;
    return new TorchPeer(spawn(PYTHON, [path.join(here, 'torch_peer.py')], { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  async call<T>(msg: Record<string, unknown>): Promise<T> {
    this.child.stdin.write(JSON.stringify(msg) + '\n');
    const next = await this.lines.next();
    if (next.done) throw new Error(`torch_peer exited during '${String(msg.cmd)}': ${this.stderr.trim()}`);
    const reply = JSON.parse(next.value) as T & { error?: string };
    if (reply.error) throw new Error(`torch_peer: ${reply.error}`);
    return reply;
  }

  stop(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
export const fmt = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '—' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
export const spread = (xs: number[]): string => (xs.length ? `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '—');

/**
 * Calls every engine once per round (the order rotating between rounds, after one untimed
 * warm-up call each) and returns each engine's times, round by round.
 */
/**
 * Milliseconds each call waits before it starts: the engine before it may leave threads spinning
 * for work (ONNX Runtime's intra-op pool, PyTorch's OpenMP team) that would otherwise take the
 * cores from the next one.
 */
export const SETTLE_MS = 100;
/** Calls per engine and round in the back-to-back inference rows. */
const B2B_CALLS = 5;

/**
 * Each round calls every engine in turn (rotating order), after SETTLE_MS idle, and records its
 * time; one untimed call each first. With `backToBack`, each turn is one untimed call and then
 * that many calls in a row, whose median is recorded: the engines' speed without what the pause
 * before a call costs (on these virtual machines, both vCPUs sharing one core for a while after
 * idling).
 */
export async function alternate(engines: [string, Fn][], rounds: number, backToBack = 0): Promise<Map<string, number[]>> {
  const times = new Map(engines.map(([name]) => [name, [] as number[]]));
  for (const [, fn] of engines) await fn();
  const timed = async (fn: Fn): Promise<number> => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < engines.length; k++) {
      const [name, fn] = engines[(k + r) % engines.length]!;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      if (!backToBack) {
        times.get(name)!.push(await timed(fn));
        continue;
      }
      await fn();
      const ts: number[] = [];
      for (let c = 0; c < backToBack; c++) ts.push(await timed(fn));
      times.get(name)!.push(median(ts));
    }
  }
  return times;
}

function maxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

/** Blocks of the seed model as tscnn's inference runs them (its fusion plan): each fused run, else one layer. */
function blocks(model: Sequential): number[][] {
  const out: number[][] = [];
  let i = 0;
  for (const unit of model.fusionPlan('inference')) {
    out.push(Array.from({ length: unit.layers.length }, (_, k) => i + k));
    i += unit.layers.length;
  }
  return out;
}

/** tscnn inference ms per block: the fused backend calls and the other layers' forwards, timed by wrappers (src untouched). */
async function tscnnBlockTimes(model: Sequential, x: Tensor, runs: number, bs: number[][], between: Fn): Promise<number[][]> {
  const conv = getBackend().fused.conv as unknown as Record<string, unknown> | null;
  const per: number[][] = bs.map(() => []);
  const fusedBlocks = bs.map((b, i) => (b.length > 1 || model.layers[b[0]!]!.className === 'Conv2D' ? i : -1)).filter((i) => i >= 0);
  let fusedCall = 0;
  let cur: number[] = bs.map(() => 0);
  const restore: (() => void)[] = [];
  const wrap = (obj: Record<string, unknown>, key: string, block: () => number): void => {
    const orig = obj[key] as (...a: unknown[]) => unknown;
    if (typeof orig !== 'function') return;
    obj[key] = (...a: unknown[]) => {
      const t0 = performance.now();
      const r = orig.apply(obj, a);
      cur[block()]! += performance.now() - t0;
      return r;
    };
    restore.push(() => void (obj[key] = orig));
  };
  const next = (): number => fusedBlocks[fusedCall++ % fusedBlocks.length]!;
  if (conv) {
    wrap(conv, 'conv2dMaxPool', next);
    wrap(conv, 'conv2d', next);
  }
  bs.forEach((b, i) => {
    if (!fusedBlocks.includes(i)) wrap(model.layers[b[0]!] as unknown as Record<string, unknown>, 'forward', () => i);
  });
  try {
    await model.predict(x);
    for (let r = 0; r < runs; r++) {
      cur = bs.map(() => 0);
      fusedCall = 0;
      await model.predict(x);
      cur.forEach((ms, i) => per[i]!.push(ms));
      await between();
    }
  } finally {
    for (const f of restore) f();
  }
  return per;
}

/** An ONNX Runtime session that profiles every run into `dir`. */
function profiledSession(ort: Ort, bytes: Uint8Array, threads: number, dir: string): Promise<import('onnxruntime-node').InferenceSession> {
  return ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: path.join(dir, 'ort'),
  });
}

/** Ends the profile: ms per node (mean over `runs`), summed by the layer name that prefixes each node name. */
async function ortLayerTimes(session: import('onnxruntime-node').InferenceSession, runs: number, dir: string): Promise<Map<string, number>> {
  session.endProfiling(); // writes <prefix>_<date>.json (onnxruntime-node returns no name)
  await session.release();
  const name = readdirSync(dir).find((f) => f.startsWith('ort') && f.endsWith('.json'));
  if (!name) throw new Error(`ONNX Runtime wrote no profile into ${dir}`);
  const events = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as { cat: string; name: string; dur: number }[];
  const byLayer = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const node = e.name.slice(0, -'_kernel_time'.length);
    const bare = node.replace(/^fused /, '');
    const layer = bare.includes('/') ? bare.slice(0, bare.indexOf('/')) : `(ORT: ${node.replace(/_\d+$/, '').replace(/\d+/g, 'N')})`;
    byLayer.set(layer, (byLayer.get(layer) ?? 0) + e.dur / 1000 / runs);
  }
  return byLayer;
}

/** The section: e2e rows, ratios per round, and inference per layer. Returns Markdown lines. */
export async function nativeSection(o: NativeOptions): Promise<string[]> {
  const md: string[] = [`## Native engines: ONNX Runtime and PyTorch CPU (the seed model, batch ${o.batch}, ${o.size}×${o.size}×3)`, ''];
  const notes: string[] = [];
  let ort: Ort | null = null;
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    notes.push(`ONNX Runtime rows skipped: onnxruntime-node cannot be loaded (${(e as Error).message.split('\n')[0]}).`);
  }
  const torch = TorchPeer.start();
  if (typeof torch === 'string') notes.push(`PyTorch rows skipped: ${torch}.`);
  const dir = mkdtempSync(path.join(tmpdir(), 'tscnn-native-'));
  const loadBefore = os.loadavg()[0]!;
  try {
    const model = buildSeedModel(o.size);
    const { x, y } = batchTensors(o.batch, o.size);
    const ours = (await model.predict(x)).dataSync().slice();
    const weights = model.getWeights();
    const flat = new Float32Array(weights.reduce((a, w) => a + w.size, 0));
    let at = 0;
    for (const w of weights) (flat.set(w.values, at), (at += w.size));
    const file = (name: string, v: Float32Array): string => (writeFileSync(path.join(dir, name), new Uint8Array(v.buffer, v.byteOffset, v.byteLength)), path.join(dir, name));
    const inference: [string, Fn][] = [['tscnn', () => model.predict(x, { batchSize: o.batch })]];
    const training: [string, Fn][] = [['tscnn', () => model.trainOnBatch(x, y)]];
    const checks: string[] = [];
    const bytes = await toOnnx(model);
    const opts = { intraOpNumThreads: o.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
    const nhwc = ort ? { input: new ort.Tensor('float32', x.values.slice(), [...x.shape]) } : null;
    if (ort && nhwc) {
      const s = await ort.InferenceSession.create(bytes, opts);
      const got = (await s.run(nhwc)).output!.data as Float32Array;
      checks.push(`ONNX Runtime on tscnn's file vs tscnn: max |Δ| ${maxError(got, ours).toExponential(1)}`);
      inference.push(['ORT (tscnn file)', () => s.run(nhwc)]);
    }
    let torchVersion = '';
    if (typeof torch !== 'string') {
      const onnxFile = path.join(dir, 'torch.onnx');
      const init = await torch.call<{ torch: string; threads: number; output: number[] }>({
        cmd: 'init', size: o.size, batch: o.batch, threads: o.threads, weights: file('w.bin', flat), input: file('x.bin', x.values), labels: file('y.bin', y.values), onnx: onnxFile,
      });
      torchVersion = `${init.torch}, ${init.threads} threads, channels-last`;
      checks.push(`PyTorch on tscnn's weights vs tscnn: max |Δ| ${maxError(init.output, ours).toExponential(1)}`);
      if (ort) {
        const [n, h, w, c] = x.shape as [number, number, number, number];
        const nchw = new Float32Array(x.size);
        for (let b = 0; b < n; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) nchw[((b * c + k) * h + i) * w + j] = x.values[((b * h + i) * w + j) * c + k]!;
        const feeds = { input: new ort.Tensor('float32', nchw, [n, c, h, w]) };
        const s = await ort.InferenceSession.create(readFileSync(onnxFile), opts);
        checks.push(`ONNX Runtime on PyTorch's file vs tscnn: max |Δ| ${maxError((await s.run(feeds)).output!.data as Float32Array, ours).toExponential(1)}`);
        inference.push(['ORT (PyTorch file)', () => s.run(feeds)]);
      }
      inference.push(['PyTorch', () => torch.call({ cmd: 'infer' })]);
      training.push(['PyTorch', () => torch.call({ cmd: 'train' })]);
    }
    o.log(`native: ${checks.join('; ')}`);
    o.log(`native: inference, ${inference.map(([n]) => n).join(' / ')} in turn, ${o.rounds.infer} rounds…`);
    const inf = await alternate(inference, o.rounds.infer);
    // Back to back: the in-process engines only (PyTorch's calls cross a pipe to its process).
    const inProcess = inference.filter(([n]) => n !== 'PyTorch');
    const b2bRounds = Math.max(3, Math.round(o.rounds.infer / 3));
    o.log(`native: inference back to back, ${inProcess.map(([n]) => n).join(' / ')}, ${b2bRounds} rounds of ${B2B_CALLS} calls each…`);
    const b2b = await alternate(inProcess, b2bRounds, B2B_CALLS);
    if (training.length > 1) o.log(`native: training step, ${training.map(([n]) => n).join(' / ')} in turn, ${o.rounds.train} rounds…`);
    const tr = training.length > 1 ? await alternate(training, o.rounds.train) : new Map<string, number[]>();
    const ratios = (t: Map<string, number[]>, peer: string): number[] => t.get(peer)!.map((ms, r) => ms / t.get('tscnn')![r]!);
    // One row per engine of `t` (in the order it was run), its ratio to tscnn within each round.
    const rowsOf = (label: string, t: Map<string, number[]>): string[][] => [...t].map(([name, ms]) => {
      const r = name === 'tscnn' ? [] : ratios(t, name);
      return [`${label}: ${name}`, spread(ms), fmt((o.batch / median(ms)) * 1000), name === 'tscnn' ? '1' : `${fmt(median(r))}× (${fmt(Math.min(...r))}–${fmt(Math.max(...r))})`, r.map(fmt).join(' ')];
    });
    const rows = [...rowsOf('inference', inf), ...rowsOf('inference back to back', b2b), ...rowsOf('training step', tr)];
    for (const [name, t] of b2b) o.log(`native: ${`${name}, b2b`.padEnd(20)} ${t.map(fmt).join(' ')} ms`);
    for (const [name, t] of [...inf, ...tr]) o.log(`native: ${name.padEnd(20)} ${t.map(fmt).join(' ')} ms`);
    md.push('| Engine | ms, median (min–max) | images/s | peer ÷ tscnn time, median (min–max) | per round |', '|:--|--:|--:|--:|:--|');
    md.push(...rows.map((r) => `| ${r.join(' | ')} |`), '');
    md.push(
      `Every round calls each engine once, in turn (rotating order; one untimed call each first; ${SETTLE_MS} ms idle before each call, so that no engine's spinning threads take the next one's cores), and the ratio is taken within the round (> 1: tscnn is faster). ` +
        `"Back to back" rows: each round runs each in-process engine ${B2B_CALLS} times in a row (after the same idle and one untimed call) and keeps the median, so they leave out what waking after the idle costs. ` +
        `${o.threads} threads everywhere: tscnn's workers, ONNX Runtime ${ort ? 'onnxruntime-node' : ''} (intra-op ${o.threads}, all graph optimisations)` +
        `${torchVersion ? `, PyTorch ${torchVersion} (a child process; its rows include one JSON line each way)` : ''}. ` +
        `Machine load (1-minute load average, ${os.availableParallelism()} cores): ${loadBefore.toFixed(1)} before the section, ${os.loadavg()[0]!.toFixed(1)} after the timed rounds. ` +
        `${torchVersion ? "ORT on PyTorch's file takes NCHW input (PyTorch's own layout); on tscnn's, NHWC. Same weights everywhere (tscnn's, copied into PyTorch). " : ''}${checks.join('; ')}.`,
      '',
    );
    if (ort) md.push(...(await layerTable(o, ort, model, x, bytes, nhwc!, typeof torch === 'string' ? null : torch, dir)));
  } finally {
    if (typeof torch !== 'string') torch.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const n of notes) md.push(n, '');
  return md;
}

/** seed model: which tscnn layer each module of bench/torch_peer.py's nn.Sequential belongs to. */
const TORCH_TO_LAYER = [0, 1, 2, 3, 4, 4, 5, 6, 6, 7, 8, 8, 9, 10, 11, 11, 12, 13, 14, 15, 16, 16];

async function layerTable(o: NativeOptions, ort: Ort, model: Sequential, x: Tensor, bytes: Uint8Array, feeds: Record<string, unknown>, torch: TorchPeer | null, dir: string): Promise<string[]> {
  o.log(`native: inference per layer, ${o.layerRuns} runs each…`);
  const bs = blocks(model);
  const session = await profiledSession(ort, bytes, o.threads, dir);
  await session.run(feeds as never); // warm-up, in the profile too
  // One profiled ORT run after each timed tscnn run: drift in the machine's speed hits both alike.
  const ours = await tscnnBlockTimes(model, x, o.layerRuns, bs, () => session.run(feeds as never));
  const ortLayers = await ortLayerTimes(session, o.layerRuns + 1, dir);
  const pt = torch ? (await torch.call<{ layers: { module: string; ms: number }[] }>({ cmd: 'layers', runs: o.layerRuns })).layers : null;
  const names = model.layers.map((l) => l.name);
  const rows: string[][] = [];
  let sums = [0, 0, 0];
  bs.forEach((b, i) => {
    const us = median(ours[i]!);
    const theirs = b.reduce((a, k) => a + (ortLayers.get(names[k]!) ?? 0), 0);
    b.forEach((k) => ortLayers.delete(names[k]!));
    const torchMs = pt ? pt.reduce((a, m, j) => a + (b.includes(TORCH_TO_LAYER[j]!) ? m.ms : 0), 0) : NaN;
    sums = [sums[0]! + us, sums[1]! + theirs, sums[2]! + (torchMs || 0)];
    const out = model.layers[b[b.length - 1]!]!.outputShape!;
    rows.push([b.map((k) => names[k]).join(' + '), `(${[o.batch, ...out].join(', ')})`, fmt(us), fmt(theirs), theirs > 0 ? `${fmt(theirs / us)}×` : '—', pt ? fmt(torchMs) : '—']);
  });
  for (const [node, ms] of ortLayers) {
    sums[1]! += ms;
    rows.push([node, '', '—', fmt(ms), '', '']);
  }
  rows.push(['**sum of rows**', '', fmt(sums[0]), fmt(sums[1]), `${fmt(sums[1]! / sums[0]!)}×`, pt ? fmt(sums[2]) : '—']);
  return [
    `### Inference per layer (batch ${o.batch}): tscnn against ONNX Runtime on tscnn's file${pt ? ', and PyTorch' : ''}`,
    '',
    '| Layers (tscnn runs each row as one call) | Output | tscnn ms | ORT ms | ORT ÷ tscnn | PyTorch ms |',
    '|:--|:--|--:|--:|--:|--:|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `tscnn and ORT in alternation, one run each per round. tscnn: medians over ${o.layerRuns} \`predict\` calls of timers wrapped around its fused backend calls (\`fused.conv.conv2dMaxPool\`: convolution, folded batch norm, relu and pool in one call) and the other layers' \`forward\`; ` +
      `what \`predict\` spends outside them is the end-to-end time minus the sum. ORT: its profiler's kernel times (mean over ${o.layerRuns + 1} runs, profiling on), each node counted in the layer its name starts with ` +
      `(tscnn's exporter names nodes \`layer/Op\`; the Transposes to NCHW count in the layer that needs them; nodes ORT adds itself are listed apart). PyTorch: each module timed alone in eval mode (median over ${o.layerRuns} runs), summed by the tscnn layer it stands for.`,
    '',
  ];
}
