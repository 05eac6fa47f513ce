// DepthwiseConv2D and SeparableConv2D on MobileNet-like shapes (batch 32), each tscnn call paired
// in alternation with tfjs-wasm's forward of the same shape (robust to the shared machine's drift).
// tfjs-wasm 4.22 has no depthwise gradient kernels, so, as for the convolution rows, the gradients
// are held to its forward: the target is at least tfjs-wasm's forward speed for every op.
import { OutputArena } from '../src/backend/arena.js';
import { depthwiseConv2dInfo } from '../src/geometry.js';
import { getBackend, layers, setBackend, type Backend, type BackendName } from '../src/index.js';
import { wrap } from '../src/tensor.js';
import { Random } from '../src/util/random.js';
import { pairedRatio, type PairedStats } from './harness.js';
import { tf, usePeer } from './peers.js';

interface Row {
  key: string;
  what: string;
  stats: PairedStats;
}

const BATCH = 32;
// The seed model's shapes and MobileNet's 13×13×128, depth multipliers 1 and 2; SeparableConv2D
// rows (filters > 0) for multiplier 1 on the seed shapes.
const SHAPES: { h: number; c: number; m: number; filters: number }[] = [
  { h: 50, c: 32, m: 1, filters: 64 },
  { h: 25, c: 64, m: 1, filters: 128 },
  { h: 13, c: 128, m: 1, filters: 0 },
  { h: 50, c: 32, m: 2, filters: 0 },
  { h: 25, c: 64, m: 2, filters: 0 },
  { h: 13, c: 128, m: 2, filters: 0 },
];

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1);
}

/** Runs the `depthwise/…` and `separable/…` rows that `selected` accepts; returns the Markdown section (empty if none ran). */
export async function benchDepthwise(selected: (key: string) => boolean, log: (msg: string) => void, withTfjsWasm: boolean): Promise<string[]> {
  if (!withTfjsWasm) return [];
  await usePeer('tfjs-wasm');
  const rounds = 15;
  const rows: Row[] = [];
  const start = getBackend();
  // tfjs-wasm runs on one thread in Node: the `.t1` rows hold tscnn to one thread too (on a loaded
  // machine, waiting for a descheduled worker costs the threaded rows more than the work).
  const configs: [string, Backend][] = [['', start]];
  if (start.name === 'cpu') configs.push(['.t1', setBackend('cpu', { threads: 1 })]);
  for (const [suffix, b] of configs) for (const { h, c, m, filters } of SHAPES) {
    const name = `${h}x${h}x${c}${m > 1 ? `m${m}` : ''}`;
    const info = depthwiseConv2dInfo([BATCH, h, h, c], [3, 3], m, [1, 1], 'same');
    const x = values(BATCH * h * h * c, 1);
    const w = values(9 * c * m, 2);
    const dy = values(BATCH * h * h * c * m, 3);
    const tx = tf.tensor4d(x, [BATCH, h, h, c]);
    const tw = tf.tensor4d(w, [3, 3, c, m]);
    const tpw = tf.tensor4d(values(c * m * Math.max(1, filters), 4), [1, 1, c * m, Math.max(1, filters)]);
    const theirsDepthwise = (): void => {
      const out = tf.depthwiseConv2d(tx, tw, 1, 'same');
      out.dataSync();
      out.dispose();
    };
    const theirsSeparable = (): void => {
      const out = tf.separableConv2d(tx, tw, tpw, 1, 'same');
      out.dataSync();
      out.dispose();
    };
    const arena = new OutputArena();
    const label = `DepthwiseConv2D 3×3 ${h}×${h}×${c}${m > 1 ? ` ×${m}` : ''}`;
    const ops: [string, string, () => unknown, () => void][] = [
      [`depthwise/${name}.fwd`, `${label} forward`, () => b.depthwiseConv2d(x, w, info), theirsDepthwise],
      [`depthwise/${name}.dx`, `${label} input gradient`, () => b.depthwiseConv2dBackpropInput(dy, w, info), theirsDepthwise],
      [`depthwise/${name}.dw`, `${label} filter gradient`, () => b.depthwiseConv2dBackpropFilter(x, dy, info), theirsDepthwise],
    ];
    if (filters > 0) {
      const sep = new layers.SeparableConv2D({ filters, kernelSize: 3, padding: 'same', useBias: false });
      sep.build([h, h, c]);
      sep.initializeWeights(new Random(5));
      const xt = wrap<4>(x, [BATCH, h, h, c]);
      const dyt = wrap<4>(values(BATCH * h * h * filters, 6), [BATCH, h, h, filters]);
      ops.push(
        [`separable/${name}.fwd`, `SeparableConv2D 3×3 ${name} → ${filters} forward`, () => sep.forward(xt, { training: false, rng: new Random(1) }), theirsSeparable],
        [`separable/${name}.train`, `SeparableConv2D 3×3 ${name} → ${filters} forward + backward`, () => {
          sep.forward(xt, { training: true, rng: new Random(1) });
          return sep.backward(dyt, true);
        }, theirsSeparable],
      );
    }
    for (const [op, what0, ours, theirs] of ops) {
      const key = op + suffix;
      const what = what0 + (suffix ? ', one thread' : '');
      if (!selected(key)) continue;
      log(`${key}: paired with tfjs-wasm's forward`);
      const stats = await pairedRatio(key, () => arena.run(ours), theirs, rounds);
      log(`${key.padEnd(28)} tfjs-wasm fwd ÷ tscnn = ${stats.median.toFixed(2)}× (${stats.min.toFixed(2)}–${stats.max.toFixed(2)})`);
      rows.push({ key, what, stats });
    }
    tf.dispose([tx, tw, tpw]);
  }
  setBackend(start.name as BackendName);
  if (rows.length === 0) return [];
  const f = (v: number): string => v.toFixed(2);
  return [
    '## DepthwiseConv2D (depth multipliers 1 and 2) and SeparableConv2D (batch 32, 3×3, stride 1, same)',
    '',
    "tfjs-wasm's forward time on the same shape ÷ tscnn's time, paired in alternation (median of the rounds, min–max); above 1: tscnn faster. tfjs-wasm has no depthwise gradient kernels, so every tscnn op is held to its forward. tfjs-wasm runs on one thread; `.t1` rows run tscnn on one thread too.",
    '',
    '| | key | ratio | min–max | rounds |',
    '|---|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.what} | \`${r.key}\` | ${f(r.stats.median)}× | ${f(r.stats.min)}–${f(r.stats.max)} | ${r.stats.rounds} |`),
    '',
  ];
}
