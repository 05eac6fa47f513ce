// checkFinite (src/model/data-args.ts), which validates every x, y and sample weight a model is
// given: each kind of non-finite float32 (NaN payloads, ±Infinity) at every position of the
// unrolled loop and its tail is found and named; the extreme finite values pass. The cpu backend's
// firstNonFinite tests a batch its engine holds on the threads, each taking chunks as it comes free
// (asm/elementwise.ts findNonFinite):
// the same index as the loop, and trainOnBatch and predict, which leave their x test to it, name
// the same value and flat index as before and change nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCpuBackend, setBackend } from '../src/backend/index.js';
import { convFast } from '../src/backend/wasm/conv-fast.js';
import { FIND_CHUNK } from '../src/backend/wasm/elementwise-fast.js';
import { getEngine } from '../src/backend/wasm/engine.js';
import { gemmFast } from '../src/backend/wasm/gemm.js';
import { holdResident, residentAt } from '../src/backend/wasm/resident.js';
import { Conv2D, Dense, Flatten } from '../src/layers/index.js';
import { checkFinite } from '../src/model/data-args.js';
import { Sequential } from '../src/model/sequential.js';
import { tensor } from '../src/tensor.js';
import { firstNonFinite } from '../src/util/finite.js';
import { assertSameWeights, randomArray, rejects } from './helpers.js';

test.before(() => void setBackend('cpu'));

const fromBits = (b: number): number => new Float32Array(new Uint32Array([b >>> 0]).buffer)[0];
const notFinite = [NaN, Infinity, -Infinity, fromBits(0x7f800001), fromBits(0xffffffff), fromBits(0xff800001)];
const extremes = [3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -1e-45, -0, 0, 1.1754943508222875e-38, fromBits(0x7f7fffff), fromBits(0xff7fffff)];

test('the extreme finite values pass, at any length and offset', () => {
  for (const n of [0, 1, 3, 4, 7, 64, 1001]) {
    const a = Float32Array.from({ length: n + 3 }, (_, i) => extremes[i % extremes.length]);
    checkFinite('op', 'x', a.subarray(3));
    checkFinite('op', 'x', a.subarray(0, n));
  }
});

test('every non-finite kind at every position is found, with its flat index', () => {
  for (const n of [1, 5, 11]) {
    for (let at = 0; at < n; at++) {
      for (const bad of notFinite) {
        const a = Float32Array.from({ length: n + 1 }, (_, i) => extremes[i % extremes.length]);
        a[at + 1] = bad;
        const view = a.subarray(1);
        assert.throws(() => checkFinite('predict', 'x', view), (err: Error) =>
          err.message === `predict: x contains ${view[at]} at flat index ${at}; inputs must be finite`, `n ${n}, index ${at}, ${bad}`);
      }
    }
  }
});

test('the engine finds the first non-finite value of a held array where the loop does, on 1, 2 and 3 threads', () => {
  const e = getEngine();
  if (e === null) return;
  const cpu = createCpuBackend('cpu', gemmFast, convFast);
  const n = 100003; // six chunks and a tail of one, 64-value blocks and a tail
  const held = holdResident(randomArray(n, 3));
  assert.ok(residentAt(e, held) >= 0, 'the array is not held in the engine');
  const C = FIND_CHUNK;
  try {
    for (const threads of [1, 2, 3]) {
      setBackend('cpu', { threads });
      assert.is(cpu.firstNonFinite!(held), -1, `a finite array, ${threads} thread(s)`);
      const keepLast = held[n - 1];
      for (const v of extremes) {
        held[n - 1] = v;
        assert.is(cpu.firstNonFinite!(held), -1, `extreme finite value ${v}, ${threads} thread(s)`);
      }
      held[n - 1] = keepLast;
      const positions = [0, 1, 63, 64, 65, C - 1, C, C + 1, C + 63, C + 64, 2 * C - 1, 2 * C, 50000, 99967, 99968, 6 * C - 1, 6 * C, n - 2, n - 1];
      for (const at of positions) {
        for (const bad of notFinite) {
          const keep = held[at];
          held[at] = bad;
          assert.is(cpu.firstNonFinite!(held), at, `${bad} at ${at}, ${threads} thread(s)`);
          assert.is(firstNonFinite(held), at, `the loop, ${bad} at ${at}`);
          held[at] = keep;
        }
      }
      // Several, in different chunks and in one: the first wins, whichever thread takes which chunk.
      const saved = [held[5 * C + 7], held[C + 3], held[C + 4], held[3 * C]];
      held[5 * C + 7] = NaN;
      held[3 * C] = -Infinity;
      held[C + 3] = Infinity;
      held[C + 4] = NaN;
      assert.is(cpu.firstNonFinite!(held), C + 3, `${threads} thread(s)`);
      held[C + 3] = held[C + 4] = 0.5;
      assert.is(cpu.firstNonFinite!(held), 3 * C, `${threads} thread(s)`);
      held[3 * C] = 0.5;
      assert.is(cpu.firstNonFinite!(held), 5 * C + 7, `${threads} thread(s)`);
      [held[5 * C + 7], held[C + 3], held[C + 4], held[3 * C]] = saved;
      assert.is(cpu.firstNonFinite!(held), -1, `finite again, ${threads} thread(s)`);
    }
  } finally {
    setBackend('cpu');
  }
  // An array the engine does not hold is tested by the loop.
  const host = randomArray(n, 4);
  host[77777] = -Infinity;
  assert.is(cpu.firstNonFinite!(host), 77777);
});

// 24×24×4 inputs: a batch of 32 has 73,728 values, one the engine tests where it holds it.
function model(): Sequential {
  const m = new Sequential();
  m.add(new Conv2D({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [24, 24, 4] }));
  m.add(new Flatten());
  m.add(new Dense({ units: 1, activation: 'sigmoid' }));
  m.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy' });
  return m;
}
const image = 24 * 24 * 4;

test('trainOnBatch and predict name a non-finite x where the engine tests it, and change nothing', async () => {
  const m = model();
  const x = tensor(randomArray(80 * image, 5), [80, 24, 24, 4]);
  const y = tensor(Array.from({ length: 32 }, (_, i) => i % 2), [32, 1]);
  const expected = await m.predict(x, { batchSize: 32 });
  const before = m.getWeights();
  // In the second batch of 32, and in the third, shorter one.
  for (const at of [32 * image + 1234, 75 * image + 17]) {
    const keep = x.values[at];
    x.values[at] = NaN;
    await rejects(m.predict(x, { batchSize: 32 }), new RegExp(`^predict: x contains NaN at flat index ${at};`), `predict, NaN at ${at}`);
    x.values[at] = keep;
  }
  const batch = tensor(x.values.slice(0, 32 * image), [32, 24, 24, 4]);
  batch.values[31 * image + 5] = Infinity;
  await rejects(m.trainOnBatch(batch, y), new RegExp(`^trainOnBatch: x contains Infinity at flat index ${31 * image + 5};`), 'trainOnBatch');
  assertSameWeights(m.getWeights(), before, 'weights after the errors');
  assert.is(m.optimizer!.iterations, 0, 'an optimizer step ran');
  const again = await m.predict(x, { batchSize: 32 });
  assert.equal([...again.values], [...expected.values], 'predictions after the errors');
  batch.values[31 * image + 5] = 0.25;
  const logs = await m.trainOnBatch(batch, y);
  assert.ok(Number.isFinite(logs.loss), 'the model still trains');
});

test.run();
