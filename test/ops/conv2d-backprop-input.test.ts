// conv2dBackpropInput on every backend against the reference's direct loops.
import { assertClose } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';
import { caseName, convCases, infoOf } from './cases.js';

opTest('conv2dBackpropInput', 'dx from dy and w', (b) => {
  for (const t of convCases) {
    const info = infoOf(t);
    const dy = rand(t.batch * info.outHeight * info.outWidth * t.f);
    const w = rand(t.k[0] * t.k[1] * t.c * t.f);
    assertClose(b.conv2dBackpropInput(dy, w, info), ref.conv2dBackpropInput(dy, w, info), { atol: 1e-5, rtol: 1e-4 }, `conv2dBackpropInput ${caseName(t)}`);
  }
});

runOps();
