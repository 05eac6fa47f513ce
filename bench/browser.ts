// The seed model's training step in headless Chromium (tscnn's browser bundle) against the same step
// in Node, in one run, alternating: each round times one step in Node (cpu backend), then one in the
// page (measured inside the page), and the row is the median over the rounds of page ÷ Node. Rows:
// the cpu backend on a cross-origin isolated page (the engine on Web Workers), and the gpu backend
// (gpu.js on the page's WebGL2; without a GPU, Chromium's SwiftShader: it shows that it runs, not a
// GPU's speed). `npm run bench` writes the section into bench/RESULTS.md (keys browser/cpu,
// browser/gpu). Needs Chromium (see test/browser/chromium.ts).
//
//   npx tsx bench/browser.ts [--size 100] [--batch 32] [--threads 2] [--rounds 15] [--filter browser/cpu]
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findChromium, startHarness, type HarnessSession } from '../test/browser/chromium.js';
import { optimizers, setBackend, setSeed, shutdownEngineThreads, startEngineThreads } from '../src/index.js';
import { buildUserModel } from '../examples/lib/user-model.js';
import { batchTensors } from './models.js';

/** What one row runs: the page's backend, the model size and the rounds. */
interface RowSpec {
  size: number;
  batch: number;
  threads: number;
  rounds: number;
  gpuMode?: 'webgl2';
}

const SEED = 1;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ms = (v: number): string => Math.round(v).toLocaleString('en-US');

/** One row: alternating rounds of a Node cpu step and a page step; the Markdown table row. */
async function row(session: HarnessSession, spec: RowSpec, log: (m: string) => void): Promise<{ line: string; info: string }> {
  const { size, batch, threads, rounds, gpuMode } = spec;
  const page = await session.open(true);
  try {
    const info = await page.evaluate((o) => (globalThis as unknown as { benchPrepare(o: unknown): Promise<unknown> }).benchPrepare(o), { threads, size, batch, seed: SEED, gpuMode });
    const pageStep = (): Promise<number> => page.evaluate(() => (globalThis as unknown as { benchStep(): Promise<number> }).benchStep());

    setBackend('cpu', { threads, relaxedSimd: 'off' });
    await startEngineThreads();
    setSeed(SEED);
    const model = buildUserModel(size, { dropoutRate: 0 });
    model.compile({ optimizer: new optimizers.SGD({ learningRate: 1e-4 }), loss: 'binaryCrossentropy' });
    const { x, y } = batchTensors(batch, size, SEED);
    const nodeStep = async (): Promise<number> => {
      const t0 = performance.now();
      await model.trainOnBatch(x, y);
      return performance.now() - t0;
    };
    // Warm-up (gpu.js compiles its kernels on the first step).
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
      log(`browser ${gpuMode ?? 'cpu'} round ${r + 1}/${rounds}: Node ${a.toFixed(0)} ms, Chromium ${b.toFixed(0)} ms`);
    }
    const classes = gpuMode ? await page.evaluate(() => (globalThis as unknown as { benchKernelClasses(): string[] }).benchKernelClasses()) : [];
    const sorted = [...ratios].sort((p, q) => p - q);
    const what = gpuMode
      ? `gpu:${gpuMode} (${classes.join(', ')}) in Chromium vs cpu in Node, ${size}×${size}×3, batch ${batch}`
      : `cpu, ${threads} threads, in both, ${size}×${size}×3, batch ${batch}`;
    return {
      line: `| ${what} | ${ms(median(node))} | ${ms(median(chrome))} | ${median(ratios).toFixed(2)}× (rounds ${sorted[0].toFixed(2)}–${sorted[sorted.length - 1].toFixed(2)}, ${rounds} rounds) |`,
      info: JSON.stringify(info),
    };
  } finally {
    shutdownEngineThreads();
    setBackend('cpu');
    await page.close();
  }
}

/**
 * The "In a browser" section of bench/RESULTS.md for the selected keys (browser/cpu, browser/gpu), or
 * '' when none is selected; a note instead of rows where no Chromium is installed.
 */
export async function browserBench(selected: (key: string) => boolean, log: (m: string) => void, cpu: RowSpec = { size: 100, batch: 32, threads: 2, rounds: 15 }): Promise<string> {
  const want = { cpu: selected('browser/cpu'), gpu: selected('browser/gpu') };
  if (!want.cpu && !want.gpu) return '';
  const md = ['## In a browser: the seed model\'s training step, headless Chromium vs Node, SGD, `relaxedSimd: \'off\'`', ''];
  const chromium = findChromium();
  if (!chromium) return [...md, 'Skipped: no Chromium found (/usr/bin/chromium or CHROMIUM_PATH).', ''].join('\n');
  md.push(`Machine: ${os.availableParallelism()} cores, load average ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')} at the start of this section. Alternating rounds (one Node step, then one page step, each timed where it runs; page on a cross-origin isolated origin), after 2 warm-up steps each; the ratio is the median of the per-round ratios.`, '');
  const session = await startHarness(chromium);
  try {
    const lines: string[] = [];
    const infos: string[] = [];
    if (want.cpu) {
      const r = await row(session, cpu, log);
      lines.push(r.line);
      infos.push(`cpu page: ${r.info}`);
    }
    // At 32×32, batch 8: on SwiftShader a 100×100 step of gpu.js kernels takes minutes.
    if (want.gpu) {
      const r = await row(session, { size: 32, batch: 8, threads: 2, rounds: 3, gpuMode: 'webgl2' }, log);
      lines.push(r.line);
      infos.push(`gpu page: ${r.info}`);
    }
    md.push(`| | Node ${process.version} (median ms) | ${(await session.browser.version()).replace(/^(Headless)?Chrome\//, 'Chromium ')} (median ms) | Chromium ÷ Node |`, '|---|---|---|---|', ...lines, '');
    md.push(`Pages: ${infos.join('; ')}.`, '');
    if (want.gpu) md.push('The gpu row runs gpu.js on WebGL2 through Chromium\'s software renderer (SwiftShader) where the machine has no GPU: it shows that the gpu backend trains in a page, not what a GPU would do.', '');
  } finally {
    await session.close();
  }
  return md.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const argv = process.argv.slice(2);
  const option = (name: string, fallback: number): number => (argv.includes(`--${name}`) ? Number(argv[argv.indexOf(`--${name}`) + 1]) : fallback);
  const filter = argv.includes('--filter') ? argv[argv.indexOf('--filter') + 1].toLowerCase() : undefined;
  const started = performance.now();
  const log = (m: string): void => void process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);
  const spec = { size: option('size', 100), batch: option('batch', 32), threads: option('threads', 2), rounds: option('rounds', 15) };
  console.log(await browserBench((k) => !filter || k.includes(filter), log, spec));
}
