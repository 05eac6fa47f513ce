// fused.conv.conv2dMaxPool (inference, any pool), conv2dMaxPoolTrain (tiling pools, with argmax) and
// conv2dMaxPoolBackward on every backend against the reference's composition of conv2d, biasAdd,
// relu and maxPool.
import * as assert from 'uvu/assert';
import { conv2dInfo } from '../../src/geometry.js';
import { assertClose } from '../helpers.js';
import { assertGrads, NEEDS, noReadback, opTest, runOps, rand, ref } from './backends.js';
import { caseName, infoOf, poolCases, poolOf } from './cases.js';

opTest('fused.conv.conv2dMaxPool', 'inference, training with argmax, and backward', (b) => {
  const ops = b.fused.conv;
  assert.ok(ops, `${b.name} has fused convolution ops`);
  const R = ref.fused.conv!;
  let masked = 0;
  for (const t of poolCases) {
    const info = infoOf(t);
    const pool = poolOf(t);
    const overlap = conv2dInfo([t.batch, info.outHeight, info.outWidth, t.f], [3, 3], t.f, [2, 2], 'same');
    for (const act of ['relu', 'linear'] as const) {
      const what = `${caseName(t)} pool ${t.pool.join('x')} ${act}`;
      const x = rand(t.batch * t.h * t.w * t.c);
      const w = rand(t.k[0] * t.k[1] * t.c * t.f);
      const bias = act === 'relu' ? rand(t.f) : null;
      const want = R.conv2dMaxPoolTrain(x, w, bias, info, act, pool);
      const got = noReadback(b, `conv2dMaxPoolTrain ${what}`, () => ops.conv2dMaxPoolTrain(x, w, bias, info, act, pool));
      assertClose(got.y, want.y, { atol: 1e-5, rtol: 1e-4 }, `conv2dMaxPoolTrain y ${what}`);
      assert.equal(Array.from(got.argmax), Array.from(want.argmax), `conv2dMaxPoolTrain argmax ${what}`);
      for (const p of [pool, overlap]) {
        const y = noReadback(b, `conv2dMaxPool ${what}`, () => ops.conv2dMaxPool(x, w, bias, info, act, p));
        assertClose(y, R.conv2dMaxPool(x, w, bias, info, act, p), { atol: 1e-5, rtol: 1e-4 }, `conv2dMaxPool ${what} pool ${p.filterHeight}x${p.filterWidth}/${p.strideHeight}`);
      }
      const dy = rand(want.y.length);
      if (act === 'relu') masked += want.y.filter((v) => v === 0).length;
      for (const need of NEEDS) {
        const expected = R.conv2dMaxPoolBackward(x, w, dy, want.y, want.argmax, info, act, need);
        const g = noReadback(b, `conv2dMaxPoolBackward ${what}`, () => ops.conv2dMaxPoolBackward(x, w, dy, got.y, got.argmax, info, act, need));
        assertGrads(g, expected, `conv2dMaxPoolBackward ${what} ${JSON.stringify(need)}`);
        // An argmax the backend did not produce (a gpu backend has no pool geometry for it).
        const foreign = ops.conv2dMaxPoolBackward(x, w, dy, got.y, Int32Array.from(got.argmax), info, act, need);
        assertGrads(foreign, expected, `conv2dMaxPoolBackward (foreign argmax) ${what} ${JSON.stringify(need)}`);
      }
    }
  }
  assert.ok(masked > 0, 'no pooled relu zero in any case');
});

runOps();
