// conv2d on every backend against the reference's direct loops.
import { assertClose } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';
import { caseName, convCases, infoOf } from './cases.js';

opTest('conv2d', 'y = x ⋆ w over strides, padding, dilation, 1×1', (b) => {
  for (const t of convCases) {
    const info = infoOf(t);
    const x = rand(t.batch * t.h * t.w * t.c);
    const w = rand(t.k[0] * t.k[1] * t.c * t.f);
    assertClose(b.conv2d(x, w, info), ref.conv2d(x, w, info), { atol: 1e-5, rtol: 1e-4 }, `conv2d ${caseName(t)}`);
  }
});

runOps();
