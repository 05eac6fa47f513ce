// What holding a model's large weights in the engine's memory saves (src/backend/wasm/resident.ts
// holdResident): the seed model's Dense kernel (4608×150) and its gradient on the host against held,
// in alternation (pairedRatio): the SGD update (host: value and gradient copied in, value copied
// back; held: in place) and the Dense input gradient dx = dz·Wᵀ (host: W staged into the memory).
// Run: node --experimental-wasm-relaxed-simd --import tsx bench/held-weights.ts [--threads N] [--rounds N]
import { getBackend, setBackend } from '../src/backend/index.js';
import { engineInfo, shutdownEngineThreads } from '../src/backend/wasm/engine.js';
import { gemmFast } from '../src/backend/wasm/gemm.js';
import { holdResident } from '../src/backend/wasm/resident.js';
import { pairedRatio } from './harness.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
setBackend('cpu', { threads: arg('threads', 2) });
const rounds = arg('rounds', 31);
const k = 4608;
const n = 150;
const random = (count: number, seed: number): Float32Array => {
  let s = seed;
  return Float32Array.from({ length: count }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) - 0.5);
};
const host = { value: random(k * n, 1), grad: random(k * n, 2) };
const held = { value: holdResident(random(k * n, 1)), grad: holdResident(random(k * n, 2)) };
const dz = random(32 * n, 3);
const dx = new Float32Array(32 * k);
const backend = getBackend();
// 20 calls a sample: one call (about a millisecond) is below the shared machine's scheduling noise.
const repeat = (f: () => void) => () => {
  for (let i = 0; i < 20; i++) f();
};
const sgd = (p: typeof host) => repeat(() => backend.sgdUpdate(p.value, p.grad, null, 1e-7, 0, false));
const inputGrad = (p: typeof host) => repeat(() => gemmFast(false, true, 32, k, n, dz, p.value, dx, false));
const rows = [
  ['sgdUpdate 4608×150', await pairedRatio('sgd', sgd(held), sgd(host), rounds)],
  ['dx = dz·Wᵀ 32×4608×150', await pairedRatio('dx', inputGrad(held), inputGrad(host), rounds)],
] as const;
shutdownEngineThreads();
console.log(`engineInfo: ${JSON.stringify(engineInfo())}; time with the kernel on the host ÷ time with it held, median [min, max] of ${rounds} paired rounds of 20 calls`);
for (const [name, r] of rows) console.log(`${name.padEnd(24)} ${r.median.toFixed(2)}× [${r.min.toFixed(2)}, ${r.max.toFixed(2)}]`);
