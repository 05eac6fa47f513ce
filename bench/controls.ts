// Cost of the training controls that run in TypeScript before the backend's update op (weight
// decay, gradient clipping, regularization penalties), each paired against the plain optimizer in
// alternation (robust to the shared machine's drift): the update of the seed model's weights
// alone, and the whole training step at batch 32 on 100×100 images.
import { optimizers, regularizers } from '../src/index.js';
import type { Optimizer } from '../src/train/optimizers.js';
import type { Param } from '../src/layers/layer.js';
import { pairedRatio, type PairedStats } from './harness.js';
import { batchTensors, buildSeedModel } from './models.js';

interface Row {
  what: string;
  stats: PairedStats;
}

function randomGrads(params: Param[]): void {
  let s = 7;
  for (const p of params) for (let i = 0; i < p.grad.length; i++) p.grad[i] = ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5) * 1e-3;
}

/** Runs the `controls/…` rows that `selected` accepts; returns the Markdown section (empty if none ran). */
export async function benchControls(selected: (key: string) => boolean, log: (msg: string) => void): Promise<string[]> {
  const rows: Row[] = [];
  const rounds = 15;
  if (selected('controls/apply')) {
    const model = buildSeedModel(100);
    const params = model.params().filter((p) => p.trainable);
    model.getWeights();
    randomGrads(params);
    const n = params.reduce((a, p) => a + p.value.length, 0);
    const pairs: [string, Optimizer, Optimizer][] = [
      ['Adam → AdamW (weightDecay 0.004)', new optimizers.Adam(), new optimizers.AdamW()],
      ['SGD → SGD + clipNorm 1', new optimizers.SGD(), new optimizers.SGD({ clipNorm: 1 })],
      ['SGD → SGD + globalClipNorm 1', new optimizers.SGD(), new optimizers.SGD({ globalClipNorm: 1 })],
      ['SGD → SGD + clipValue 1e-4', new optimizers.SGD(), new optimizers.SGD({ clipValue: 1e-4 })],
    ];
    for (const [what, a, b] of pairs) {
      log(`controls/apply: ${what}`);
      // Clipping works on the gradients in place: restore them so every call sees the same ones.
      const saved = params.map((p) => p.grad.slice());
      const restore = (): void => params.forEach((p, i) => p.grad.set(saved[i]));
      rows.push({ what: `update of ${n.toLocaleString('en-US')} weights: ${what}`, stats: await pairedRatio(what, () => (restore(), a.apply(params)), () => (restore(), b.apply(params)), rounds) });
    }
  }
  if (selected('controls/step')) {
    const { x, y } = batchTensors(32, 100, 3);
    const plain = buildSeedModel(100);
    plain.compile({ optimizer: new optimizers.Adam({ learningRate: 1e-4 }), loss: 'binaryCrossentropy' });
    const decayed = buildSeedModel(100);
    decayed.compile({ optimizer: new optimizers.AdamW({ learningRate: 1e-4, globalClipNorm: 1 }), loss: 'binaryCrossentropy' });
    log('controls/step: Adam vs AdamW + globalClipNorm, batch 32');
    rows.push({ what: 'training step, batch 32: Adam → AdamW + globalClipNorm 1', stats: await pairedRatio('step', () => plain.trainOnBatch(x, y), () => decayed.trainOnBatch(x, y), 7) });
    const regularized = buildSeedModel(100);
    // The seed model builder takes no regularizer options; the penalty reads only Param.regularizer.
    for (const layer of regularized.layers) {
      for (const p of layer.params()) if (p.trainable) (p as { regularizer?: unknown }).regularizer = regularizers.l2({ l2: 1e-4 });
    }
    regularized.compile({ optimizer: new optimizers.Adam({ learningRate: 1e-4 }), loss: 'binaryCrossentropy' });
    log('controls/step: Adam vs Adam with l2 on every weight, batch 32');
    rows.push({ what: 'training step, batch 32: no regularizer → l2 on every weight', stats: await pairedRatio('step-l2', () => plain.trainOnBatch(x, y), () => regularized.trainOnBatch(x, y), 7) });
  }
  if (rows.length === 0) return [];
  const f = (v: number): string => v.toFixed(3);
  return [
    '## Training controls',
    '',
    'Time with the control ÷ time without, paired in alternation in one process (median of the rounds, min–max); the controls run in TypeScript before the backend update op.',
    '',
    '| | ratio | min–max | rounds |',
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.what} | ${f(r.stats.median)}× | ${f(r.stats.min)}–${f(r.stats.max)} | ${r.stats.rounds} |`),
    '',
  ];
}
