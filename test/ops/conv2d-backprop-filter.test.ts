// conv2dBackpropFilter on every backend against the reference's direct loops (sums over the batch
// and every pixel: the loosest tolerance of the convolution ops).
import { assertClose } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';
import { caseName, convCases, infoOf } from './cases.js';

opTest('conv2dBackpropFilter', 'dw from x and dy', (b) => {
  for (const t of convCases) {
    const info = infoOf(t);
    const x = rand(t.batch * t.h * t.w * t.c);
    const dy = rand(t.batch * info.outHeight * info.outWidth * t.f);
    assertClose(b.conv2dBackpropFilter(x, dy, info), ref.conv2dBackpropFilter(x, dy, info), { atol: 1e-4, rtol: 1e-4 }, `conv2dBackpropFilter ${caseName(t)}`);
  }
});

runOps();
