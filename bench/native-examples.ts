// ONNX Runtime on the ONNX files tscnn exports of the example networks beyond the seed model: the
// functional residual network (examples/residual.ts) and the MobileNet-style one
// (examples/mobilenet.ts), inference at their example image sizes, tscnn's predict and ORT in
// alternation (bench/native.ts's `alternate`), ratios per round. Skipped with a note when
// onnxruntime-node is missing.
import os from 'node:os';
import { toOnnx, type LayersModel } from '../src/index.js';
import { Tensor, type Shape } from '../src/tensor.js';
import { buildMobileNetModel } from '../examples/lib/mobilenet-model.js';
import { buildResidualModel } from '../examples/lib/residual-model.js';
import { alternate, fmt, median, SETTLE_MS, spread } from './native.js';

/** Rows of the section; `log` prints progress. Returns Markdown lines. */
export async function nativeExamplesSection(o: { batch: number; rounds: number; threads: number; log(msg: string): void }): Promise<string[]> {
  const md = [`## ONNX Runtime on tscnn's export of the example networks (inference, batch ${o.batch})`, ''];
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    return [...md, `Skipped: onnxruntime-node cannot be loaded (${(e as Error).message.split('\n')[0]}).`, ''];
  }
  const loadBefore = os.loadavg()[0]!;
  const rows: string[][] = [];
  const nets: [string, LayersModel][] = [
    ['residual (functional, 32×32×3)', buildResidualModel(32)],
    ['MobileNet-style (64×64×3)', buildMobileNetModel(64, 1)],
  ];
  for (const [what, model] of nets) {
    const shape = [o.batch, ...model.inputShape];
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => ((i * 7919) % 1000) / 1000);
    const x = new Tensor(values, shape as unknown as Shape);
    const session = await ort.InferenceSession.create(await toOnnx(model), { intraOpNumThreads: o.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    const feeds = { input: new ort.Tensor('float32', values, shape) };
    const ours = ((await model.predict(x)) as Tensor).dataSync();
    const theirs = (await session.run(feeds)).output!.data as Float32Array;
    const err = ours.reduce((e, v, i) => Math.max(e, Math.abs(v - theirs[i]!)), 0);
    o.log(`native/examples: ${what}, tscnn / ORT in turn, ${o.rounds} rounds (max |Δ| ${err.toExponential(1)})…`);
    const t = await alternate([['tscnn', () => model.predict(x, { batchSize: o.batch })], ['ORT', () => session.run(feeds)]], o.rounds);
    await session.release();
    const ratios = t.get('ORT')!.map((ms, r) => ms / t.get('tscnn')![r]!);
    rows.push([what, spread(t.get('tscnn')!), spread(t.get('ORT')!), `${fmt(median(ratios))}× (${fmt(Math.min(...ratios))}–${fmt(Math.max(...ratios))})`, ratios.map(fmt).join(' '), err.toExponential(1)]);
  }
  md.push(
    '| Network | tscnn ms | ORT ms | ORT ÷ tscnn time, median (min–max) | per round | max abs diff |',
    '|:--|--:|--:|--:|:--|--:|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `Each round calls tscnn's \`predict\` and ONNX Runtime (onnxruntime-node, intra-op ${o.threads} threads, all graph optimisations) once, in turn (rotating order; one untimed call each first; ${SETTLE_MS} ms idle before each call); ` +
      `> 1: tscnn is faster. Weights as drawn at initialization. Machine load (1-minute load average, ${os.availableParallelism()} cores): ${loadBefore.toFixed(1)} before, ${os.loadavg()[0]!.toFixed(1)} after.`,
    '',
  );
  return md;
}
