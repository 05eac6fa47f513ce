// fused.conv.conv2d (conv → bias → relu/linear) and fused.conv.conv2dBackward on every backend
// against the reference's fused ops, which are its plain ops composed.
import * as assert from 'uvu/assert';
import { assertClose } from '../helpers.js';
import { assertGrads, NEEDS, noReadback, opTest, runOps, rand, ref } from './backends.js';
import { caseName, infoOf, poolCases } from './cases.js';

opTest('fused.conv.conv2d', 'forward and backward, relu and linear, with and without bias', (b) => {
  const ops = b.fused.conv;
  assert.ok(ops, `${b.name} has fused convolution ops`);
  for (const t of poolCases) {
    const info = infoOf(t);
    for (const act of ['relu', 'linear'] as const) {
      for (const withBias of [true, false]) {
        const what = `${caseName(t)} ${act}${withBias ? ' bias' : ''}`;
        const x = rand(t.batch * t.h * t.w * t.c);
        const w = rand(t.k[0] * t.k[1] * t.c * t.f);
        const bias = withBias ? rand(t.f) : null;
        const want = ref.fused.conv!.conv2d(x, w, bias, info, act);
        assertClose(noReadback(b, `conv2d ${what}`, () => ops.conv2d(x, w, bias, info, act)), want, { atol: 1e-5, rtol: 1e-4 }, `fused conv2d ${what}`);
        if (act === 'relu') assert.ok(want.some((v) => v === 0) && want.some((v) => v > 0), `${what}: relu clips nothing or everything`);
        const dy = rand(want.length);
        for (const need of NEEDS) {
          // Both sides read relu' off the reference's output, so they mask the same cells.
          const got = noReadback(b, `conv2dBackward ${what}`, () => ops.conv2dBackward(x, w, dy, want, info, act, need));
          assertGrads(got, ref.fused.conv!.conv2dBackward(x, w, dy, want, info, act, need), `fused conv2dBackward ${what} ${JSON.stringify(need)}`);
        }
      }
    }
  }
});

runOps();
