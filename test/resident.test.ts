// Resident outputs (src/backend/arena.ts, src/backend/wasm/resident.ts): inside a model step the
// WebAssembly ops write large outputs into regions of the engine's memory and read resident
// inputs where they are. Each op must give the same bits as outside any arena, never write into
// an input it reads in place, and no op's scratch may land on a region an arena still holds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OutputArena } from '../src/backend/arena.js';
import { setBackend } from '../src/backend/index.js';
import { convFast } from '../src/backend/wasm/conv-fast.js';
import { useWinograd } from '../src/backend/wasm/conv-plan.js';
import { elementwiseFast } from '../src/backend/wasm/elementwise-fast.js';
import { getEngine, type Engine } from '../src/backend/wasm/engine.js';
import { regionAllocator } from '../src/backend/wasm/regions.js';
import { residentAt, residentBytes, residentCopy } from '../src/backend/wasm/resident.js';
import { conv2dInfo } from '../src/geometry.js';
import { SGD } from '../src/train/optimizers.js';
import { Tensor } from '../src/tensor.js';
import { buildUserModel } from '../examples/lib/user-model.js';
import { assertIdentical, randomArray } from './helpers.js';

const e = getEngine();
const resident = (a: Float32Array | Int32Array | null | undefined): boolean => !!a && e !== null && residentAt(e, a) >= 0;

// [4, 20, 20, 3] → 16 (direct kernels) and [4, 20, 20, 16] → 8 (Winograd F(2×2), F(4×4), and im2col +
// GEMM), 'same', then 2×2 pools.
const first = conv2dInfo([4, 20, 20, 3], [3, 3], 16, [1, 1], 'same');
const second = conv2dInfo([4, 20, 20, 16], [3, 3], 8, [1, 1], 'same');
const pool16 = conv2dInfo([4, 20, 20, 16], [2, 2], 16, [2, 2], 'valid');
const pool8 = conv2dInfo([4, 20, 20, 8], [2, 2], 8, [2, 2], 'valid');

type Outputs = Record<string, Float32Array | Int32Array | null>;

/**
 * Runs `ops` on the inputs three ways: outside any arena (copies, the reference), inside an arena
 * on copies of the inputs, and inside an arena on resident copies of the inputs; all must agree
 * bit for bit, resident inputs must be unchanged, and large outputs in an arena must be resident.
 */
function check(name: string, inputs: Record<string, Float32Array | Int32Array>, ops: (i: Record<string, Float32Array | Int32Array>) => Outputs): void {
  const expected = ops(inputs);
  for (const [k, v] of Object.entries(expected)) assert.ok(!resident(v), `${name}: ${k} outside an arena is a plain array`);
  const arena = new OutputArena();
  for (const residentInputs of [false, true]) {
    arena.run(() => {
      const ins = residentInputs ? Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, residentCopy(v)])) : inputs;
      if (residentInputs) for (const [k, v] of Object.entries(ins)) assert.ok(resident(v) || v.length < 1 << 14, `${name}: ${k} resident`);
      const before = Object.fromEntries(Object.entries(ins).map(([k, v]) => [k, v.slice()]));
      const got = ops(ins);
      for (const [k, v] of Object.entries(expected)) {
        if (v === null) continue;
        assertIdentical(got[k]!, v, `${name} ${k} (resident inputs: ${residentInputs})`);
        if (v.length >= 1 << 14) assert.ok(resident(got[k]), `${name}: ${k} is resident in the arena`);
      }
      for (const [k, v] of Object.entries(ins)) assertIdentical(v, before[k]!, `${name}: input ${k} unchanged`);
    });
  }
  arena.clear();
}

test('every WebAssembly op: resident outputs and inputs give the same bits, inputs are never written', () => {
  if (e === null) {
    console.log('  (no WebAssembly engine: nothing resident to test)');
    return;
  }
  const x3 = randomArray(4 * 20 * 20 * 3, 1);
  const x16 = randomArray(4 * 20 * 20 * 16, 2);
  const w1 = randomArray(3 * 3 * 3 * 16, 3, -0.3, 0.3);
  const w2 = randomArray(3 * 3 * 16 * 8, 4, -0.3, 0.3);
  const b16 = randomArray(16, 5);
  const b8 = randomArray(8, 6);
  const dy16 = randomArray(4 * 20 * 20 * 16, 7);
  const dy8 = randomArray(4 * 20 * 20 * 8, 8);
  const dp16 = randomArray(4 * 10 * 10 * 16, 9);
  const dp8 = randomArray(4 * 10 * 10 * 8, 10);
  const gamma = randomArray(16, 11, 0.5, 1.5);
  const beta = randomArray(16, 12);
  const cases = [
    [first, x3, w1, b16, dy16, dp16, pool16, 'direct'],
    ...(['winograd', 'winograd4', 'im2col'] as const).map((mode) => [second, x16, w2, b8, dy8, dp8, pool8, mode] as const),
  ] as const;
  for (const [info, x, w, b, dy, dp, pool, mode] of cases) {
    const tag = `${info.inChannels}→${info.outChannels} ${mode}`;
    setBackend('cpu', { winograd: mode === 'im2col' ? 0 : mode === 'winograd4' ? 4 : 2 });
    try {
      assert.is(useWinograd(info), mode.startsWith('winograd'), `${tag}: the path under test runs`);
      check(`conv2d ${tag}`, { x, w, b }, (i) => ({ y: convFast.conv2d(i.x as Float32Array, i.w as Float32Array, info, i.b as Float32Array, true) }));
      check(`conv2dBackpropInput ${tag}`, { dy, w }, (i) => ({ dx: convFast.conv2dBackpropInput(i.dy as Float32Array, i.w as Float32Array, info) }));
      check(`conv2dBackpropFilter ${tag}`, { x, dy }, (i) => ({ dw: convFast.conv2dBackpropFilter(i.x as Float32Array, i.dy as Float32Array, info) }));
      const yRelu = convFast.conv2d(x, w, info, b, true)!;
      for (const reluY of [null, yRelu]) {
        check(`conv2dBackward ${tag} relu ${!!reluY}`, reluY ? { x, w, dy, reluY } : { x, w, dy }, (i) => {
          const r = convFast.conv2dBackward(i.x as Float32Array, i.w as Float32Array, i.dy as Float32Array, (i.reluY as Float32Array) ?? null, info, { dx: true, dw: true, db: true })!;
          return { dx: r.dx, dw: r.dw, db: r.db };
        });
      }
      check(`conv2dMaxPool ${tag}`, { x, w, b }, (i) => ({ y: convFast.conv2dMaxPool(i.x as Float32Array, i.w as Float32Array, info, i.b as Float32Array, true, pool) }));
      const train = convFast.conv2dMaxPoolTrain(x, w, info, b, true, pool)!;
      check(`conv2dMaxPoolTrain ${tag}`, { x, w, b }, (i) => ({ ...convFast.conv2dMaxPoolTrain(i.x as Float32Array, i.w as Float32Array, info, i.b as Float32Array, true, pool)! }));
      check(`conv2dMaxPoolBackward ${tag}`, { x, w, dp, y: train.y, a: train.argmax }, (i) => ({
        ...convFast.conv2dMaxPoolBackward(i.x as Float32Array, i.w as Float32Array, i.dp as Float32Array, i.y as Float32Array, i.a as Int32Array, info, true, { dx: true, dw: true, db: true })!,
      }));
    } finally {
      setBackend('cpu');
    }
  }
  const bn = elementwiseFast.batchNormTrain(x16, gamma, beta, 16, 1e-3)!;
  check('batchNormTrain', { x16 }, (i) => {
    const r = elementwiseFast.batchNormTrain(i.x16 as Float32Array, gamma, beta, 16, 1e-3)!;
    return { y: r.y, xHat: r.xHat, mean: r.mean, variance: r.variance, invStd: r.invStd };
  });
  check('batchNormInference', { x16 }, (i) => ({ y: elementwiseFast.batchNormInference(i.x16 as Float32Array, gamma, beta, bn.mean, bn.variance, 16, 1e-3) }));
  check('batchNormBackward', { dy16, xHat: bn.xHat }, (i) => ({ ...elementwiseFast.batchNormBackward(i.dy16 as Float32Array, i.xHat as Float32Array, gamma, bn.invStd, 16)! }));
  check('relu', { x16 }, (i) => ({ y: elementwiseFast.relu(i.x16 as Float32Array) }));
  check('reluBackward', { dy16, x16 }, (i) => ({ dx: elementwiseFast.reluBackward(i.dy16 as Float32Array, i.x16 as Float32Array) }));
  for (const kind of ['sigmoid', 'tanh'] as const) {
    const y = elementwiseFast.activation(kind, x16)!;
    check(kind, { x16 }, (i) => ({ y: elementwiseFast.activation(kind, i.x16 as Float32Array) }));
    check(`${kind}'`, { dy16, y }, (i) => ({ dx: elementwiseFast.activationBackward(kind, i.dy16 as Float32Array, i.y as Float32Array) }));
  }
  check('maxPool', { x16 }, (i) => ({ ...elementwiseFast.maxPool(i.x16 as Float32Array, pool16)! }));
  const fused = elementwiseFast.batchNormActPoolTrain(x16, gamma, beta, 16, 1e-3, true, pool16)!;
  check('batchNormActPoolTrain', { x16 }, (i) => {
    const r = elementwiseFast.batchNormActPoolTrain(i.x16 as Float32Array, gamma, beta, 16, 1e-3, true, pool16)!;
    return { y: r.y, argmax: r.argmax, mean: r.mean, invStd: r.invStd };
  });
  check('batchNormActPoolBackward', { dp16, x16, a: fused.argmax }, (i) => ({
    ...elementwiseFast.batchNormActPoolBackward(i.dp16 as Float32Array, i.x16 as Float32Array, gamma, beta, fused.mean, fused.invStd, i.a as Int32Array, 16, true, pool16)!,
  }));
});

test('regions: held ones survive other ops\' scratch; freed ones are reused, split and merged; off means copies', () => {
  if (e === null) return;
  const base = residentBytes();
  const held = new OutputArena();
  const x = randomArray(4 * 20 * 20 * 16, 20);
  const kept = held.run(() => residentCopy(x));
  assert.ok(resident(kept));
  // Large ops in another arena and outside any: their scratch sits above every region.
  const other = new OutputArena();
  const big = randomArray(8 * 40 * 40 * 16, 21);
  for (let i = 0; i < 3; i++) other.run(() => elementwiseFast.batchNormTrain(big, new Float32Array(16).fill(1), new Float32Array(16), 16, 1e-3));
  convFast.conv2d(big, randomArray(3 * 3 * 16 * 16, 22), conv2dInfo([8, 40, 40, 16], [3, 3], 16, [1, 1], 'same'), null, false);
  assertIdentical(kept, x, 'a held region keeps its values');
  other.clear();
  // A freed region takes smaller requests (the rest stays free) and merges back when they go.
  const a = new OutputArena();
  const b = new OutputArena();
  const first = a.run(() => residentCopy(new Float32Array(1 << 16)));
  const second = b.run(() => residentCopy(new Float32Array(1 << 16)));
  a.clear();
  const c = new OutputArena();
  // Where exactly they land depends on what earlier tests left free (best fit): the allocator's
  // own test below pins the placement; here, freed space is reused and nothing grows.
  const top = residentBytes();
  const halves = c.run(() => [residentCopy(new Float32Array(1 << 15)), residentCopy(new Float32Array(1 << 15))]);
  assert.ok(halves.every(resident), 'the halves are resident');
  assert.is(residentBytes(), top, 'two halves taken from freed space');
  c.clear();
  a.run(() => residentCopy(new Float32Array(1 << 16)));
  assert.is(residentBytes(), top, 'a whole region again from freed space');
  for (const arena of [a, b, held]) arena.clear();
  assert.ok(second.byteOffset > first.byteOffset);
  assert.is(residentBytes(), base, 'every region freed: the space went back to scratch');
  setBackend('cpu', { residentOutputs: false });
  try {
    const y = new OutputArena().run(() => elementwiseFast.relu(x)!);
    assert.ok(!resident(y), 'switched off: outputs are copied out');
  } finally {
    setBackend('cpu');
  }
});

test('the region allocator: best fit, split, merged on release, the top handed back to scratch', () => {
  const fake = { regionBase: 1024, workBase: 1024 } as Engine;
  let grown = 0;
  const r = regionAllocator(fake, (end) => ((grown = Math.max(grown, end)), true));
  const K = 1 << 10;
  const first = r.alloc(256 * K);
  const second = r.alloc(256 * K);
  const small = r.alloc(100 * K);
  const fourth = r.alloc(64 * K);
  assert.equal([first, second, small, fourth], [1024, 1024 + 256 * K, 1024 + 512 * K, 1024 + 612 * K]);
  assert.is(fake.workBase, 1024 + 676 * K);
  assert.is(grown, fake.workBase);
  r.release(256 * K, first);
  r.release(100 * K, small);
  // Best fit: 70 KiB from the 100 KiB region, not the 256 KiB one; 128 KiB twice from the 256 KiB one.
  assert.is(r.alloc(70 * K), small);
  assert.equal([r.alloc(128 * K), r.alloc(128 * K)], [first, first + 128 * K]);
  // A request no free region holds is cut at the top.
  assert.is(r.alloc(50 * K), 1024 + 676 * K);
  // Released neighbours merge back into one region: 256 KiB fits at first again.
  r.release(128 * K, first + 128 * K);
  r.release(128 * K, first);
  assert.is(r.alloc(256 * K), first);
  // Freeing everything hands the space back to scratch; an unknown offset is ignored.
  r.release(0, 12345);
  for (const o of [first, second, small, fourth, 1024 + 676 * K]) r.release(0, o);
  assert.is(fake.workBase, 1024);
});

test('a model reuses its regions: training and predicting at several batch sizes does not grow them', async () => {
  if (e === null) return;
  const m = buildUserModel(24, { dropoutRate: 0.5 });
  m.compile({ optimizer: new SGD({ learningRate: 0.01 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  const x = new Tensor(randomArray(40 * 24 * 24 * 3, 30, 0, 1), [40, 24, 24, 3]);
  const y = new Tensor(Float32Array.from({ length: 40 }, (_, i) => i % 2), [40, 1]);
  const round = async () => {
    await m.fit(x, y, { epochs: 1, batchSize: 16, validationSplit: 0.2, verbose: 0 });
    for (const batchSize of [5, 7, 16]) await m.predict(x, { batchSize });
  };
  await round();
  const after = residentBytes();
  for (let i = 0; i < 3; i++) await round();
  assert.ok(after > 0, 'the model used regions');
  // At most: a weight packed by an earlier test (src/backend/wasm/packed-weights.ts) may be collected meanwhile.
  assert.ok(residentBytes() <= after, `no growth after the first round: ${residentBytes()} bytes, ${after} after the first`);
});

test.run();
