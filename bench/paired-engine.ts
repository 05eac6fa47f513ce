// The seed model's training step and inference, this checkout against another build of tscnn
// (e.g. the commit before a change), paired in one process: each round runs one call of each
// build back to back, and the ratio is this ÷ other (below 1: this one is faster); the median over
// the rounds is robust to the shared machine's speed drifting. Half the rounds run the other build
// first, half this one, so that going first or second does not favour either: the result is the
// geometric mean of the two medians.
//
//   git worktree add /tmp/old 21a63f0 && ln -s "$PWD/node_modules" /tmp/old/node_modules
//   (cd /tmp/old && node asm/build.mjs)
//   npx tsx bench/paired-engine.ts --other /tmp/old [--rounds 15] [--relaxed force|off|auto] [--winograd 0|2|4]
//
// --relaxed chooses this build's WebAssembly build (setBackend('cpu', { relaxedSimd })); builds
// before the configuration API ran the relaxed-SIMD build wherever V8 accepted it after setting
// the flag, so 'force' (the default here) compares the same arithmetic. --winograd chooses this
// build's 3×3 algorithm (setBackend('cpu', { winograd }); default: the backend's own default).
import path from 'node:path';
import { pairedRatio, type PairedStats } from './harness.js';
import { batchTensors, buildSeedModel } from './models.js';
import { getBackendConfig, setBackend, shutdownEngineThreads, type RelaxedSimdSetting, type WinogradSetting } from '../src/index.js';

const argv = process.argv.slice(2);
function option(name: string, fallback?: string): string {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`paired-engine: --${name} is required`);
  return v;
}
const other = path.resolve(option('other'));
const rounds = Number(option('rounds', '15'));
const relaxed = option('relaxed', 'force') as RelaxedSimdSetting;
const winograd = argv.includes('--winograd') ? (Number(option('winograd')) as WinogradSetting) : undefined;
const SIZE = 100;
const BATCH = 32;

interface Lib {
  setBackend(name: 'cpu'): unknown;
}
interface Models {
  buildSeedModel(size: number): { trainOnBatch(x: unknown, y: unknown): Promise<unknown>; predict(x: unknown, o: { batchSize: number }): unknown };
  batchTensors(batch: number, size: number): { x: unknown; y: unknown };
}
const otherLib = (await import(path.join(other, 'src/index.ts'))) as Lib;
const otherModels = (await import(path.join(other, 'bench/models.ts'))) as Models;
otherLib.setBackend('cpu');
setBackend('cpu', winograd === undefined ? { relaxedSimd: relaxed } : { relaxedSimd: relaxed, winograd });

const mine = buildSeedModel(SIZE);
const theirs = otherModels.buildSeedModel(SIZE);
const a = batchTensors(BATCH, SIZE);
const b = otherModels.batchTensors(BATCH, SIZE);

// this ÷ other from rounds in both orders: pairedRatio(a, b) is time(b) ÷ time(a).
async function both(name: string, theirsFn: () => unknown, mineFn: () => unknown): Promise<PairedStats> {
  const half = Math.ceil(rounds / 2);
  const otherFirst = await pairedRatio(`${name} other first`, theirsFn, mineFn, half);
  const thisFirst = await pairedRatio(`${name} this first`, mineFn, theirsFn, half);
  return {
    median: Math.sqrt(otherFirst.median / thisFirst.median),
    min: Math.min(otherFirst.min, 1 / thisFirst.max),
    max: Math.max(otherFirst.max, 1 / thisFirst.min),
    rounds: 2 * half,
  };
}
const results: [string, PairedStats][] = [];
results.push(['training step', await both('train', () => theirs.trainOnBatch(b.x, b.y), () => mine.trainOnBatch(a.x, a.y))]);
results.push(['inference', await both('infer', () => theirs.predict(b.x, { batchSize: BATCH }), () => mine.predict(a.x, { batchSize: BATCH }))]);
console.log(`this build: ${JSON.stringify(getBackendConfig())}; other: ${other}`);
console.log(`seed model, batch ${BATCH}, ${SIZE}×${SIZE}×3, ${results[0][1].rounds} paired rounds (half in each order); time(this) ÷ time(other), geometric mean of the two orders' medians [min, max]:`);
for (const [what, r] of results) console.log(`  ${what.padEnd(14)} ${r.median.toFixed(3)} [${r.min.toFixed(3)}, ${r.max.toFixed(3)}]`);
shutdownEngineThreads();
process.exit(0);
