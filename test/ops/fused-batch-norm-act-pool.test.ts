// fused.batchNormActPool.train and .backward on every backend against the reference's composition
// of batchNormTrain, relu and maxPool (and, backward, x̂ recomputed from x, mean and invStd).
import * as assert from 'uvu/assert';
import { conv2dInfo } from '../../src/geometry.js';
import { assertClose } from '../helpers.js';
import { noReadback, opTest, runOps, rand, ref } from './backends.js';

const TOL = { atol: 1e-4, rtol: 1e-4 };
const cases: [number, number, number, number, [number, number]][] = [
  [1, 5, 7, 3, [2, 2]],
  [4, 8, 6, 5, [2, 2]],
  [2, 9, 9, 2, [3, 3]],
  [8, 6, 7, 4, [2, 3]],
  [2, 10, 10, 16, [2, 2]],
];

opTest('fused.batchNormActPool', 'train and backward, relu and linear', (b) => {
  const ops = b.fused.batchNormActPool;
  assert.ok(ops, `${b.name} has the fused batch norm → activation → pool ops`);
  const R = ref.fused.batchNormActPool!;
  let masked = 0;
  for (const [batch, h, w, c, size] of cases) {
    const pool = conv2dInfo([batch, h, w, c], size, c, size, 'valid');
    for (const act of ['relu', 'linear'] as const) {
      const what = `${batch}x${h}x${w}x${c} pool ${size.join('x')} ${act}`;
      const x = rand(batch * h * w * c, -2, 3);
      const gamma = rand(c, 0.5, 1.5);
      const beta = rand(c);
      const want = R.train(x, gamma, beta, c, 1e-3, act, pool);
      const got = noReadback(b, `train ${what}`, () => ops.train(x, gamma, beta, c, 1e-3, act, pool));
      assertClose(got.y, want.y, TOL, `train y ${what}`);
      assert.equal(Array.from(got.argmax), Array.from(want.argmax), `train argmax ${what}`);
      for (const key of ['mean', 'variance', 'invStd'] as const) assertClose(got[key], want[key], TOL, `train ${key} ${what}`);
      if (act === 'relu') masked += want.y.filter((v) => v === 0).length;
      const dy = rand(want.y.length);
      const expected = R.backward(dy, x, gamma, beta, want.mean, want.invStd, want.argmax, c, act, pool);
      const g = noReadback(b, `backward ${what}`, () => ops.backward(dy, x, gamma, beta, want.mean, want.invStd, got.argmax, c, act, pool));
      assertClose(g.dx, expected.dx, TOL, `backward dx ${what}`);
      assertClose(g.dGamma, expected.dGamma, { atol: 1e-3, rtol: 1e-4 }, `backward dGamma ${what}`);
      assertClose(g.dBeta, expected.dBeta, { atol: 1e-3, rtol: 1e-4 }, `backward dBeta ${what}`);
    }
  }
  assert.ok(masked > 0, 'no pooled relu zero in any case');
});

runOps();
