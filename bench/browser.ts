// The seed model's training step in headless Chromium (tscnn's browser bundle, cpu backend,
// cross-origin isolated page: the engine on Web Workers) against the same step in Node, in one
// run, alternating: each round times one step in Node, then one in the page (measured inside the
// page), and the row is the median over the rounds of page ÷ Node. Needs Chromium (see
// test/browser/chromium.ts).
//
//   npx tsx bench/browser.ts [--size 100] [--batch 32] [--threads 2] [--rounds 15]
import { findChromium, startHarness } from '../test/browser/chromium.js';
import { optimizers, setBackend, setSeed, shutdownEngineThreads, startEngineThreads } from '../src/index.js';
import { buildUserModel } from '../examples/lib/user-model.js';
import { batchTensors } from './models.js';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const size = option('size', 100);
const batch = option('batch', 32);
const threads = option('threads', 2);
const rounds = option('rounds', 15);
const seed = 1;

const chromium = findChromium();
if (!chromium) {
  console.log('bench/browser: no Chromium found (/usr/bin/chromium or CHROMIUM_PATH)');
  process.exit(1);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const session = await startHarness(chromium);
try {
  const page = await session.open(true);
  const info = await page.evaluate((o) => (globalThis as unknown as { benchPrepare(o: unknown): Promise<unknown> }).benchPrepare(o), { threads, size, batch, seed });
  const pageStep = (): Promise<number> => page.evaluate(() => (globalThis as unknown as { benchStep(): Promise<number> }).benchStep());

  setBackend('cpu', { threads, relaxedSimd: 'off' });
  await startEngineThreads();
  setSeed(seed);
  const model = buildUserModel(size, { dropoutRate: 0 });
  model.compile({ optimizer: new optimizers.SGD({ learningRate: 1e-4 }), loss: 'binaryCrossentropy' });
  const { x, y } = batchTensors(batch, size, seed);
  const nodeStep = async (): Promise<number> => {
    const t0 = performance.now();
    await model.trainOnBatch(x, y);
    return performance.now() - t0;
  };

  for (let w = 0; w < 2; w++) {
    await nodeStep();
    await pageStep();
  }
  const node: number[] = [];
  const chrome: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const a = await nodeStep();
    const b = await pageStep();
    node.push(a);
    chrome.push(b);
    ratios.push(b / a);
  }
  const sorted = [...ratios].sort((p, q) => p - q);
  console.log(`page: ${JSON.stringify(info)}`);
  console.log(`seed model ${size}×${size}×3, batch ${batch}, SGD, cpu backend, ${threads} threads, relaxedSimd off; ${rounds} alternating rounds`);
  console.log(`| | Node ${process.version} | Chromium (headless, cross-origin isolated) | Chromium ÷ Node |`);
  console.log('|---|---|---|---|');
  console.log(`| training step (median ms) | ${median(node).toFixed(0)} | ${median(chrome).toFixed(0)} | ${median(ratios).toFixed(2)}× (rounds ${sorted[0].toFixed(2)}–${sorted[sorted.length - 1].toFixed(2)}) |`);
  await page.close();
} finally {
  shutdownEngineThreads();
  await session.close();
}
