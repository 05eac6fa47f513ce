// multiply on every backend against the reference.
import { assertClose } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';

opTest('multiply', 'element-wise product', (b) => {
  for (const n of [1, 7, 4096, 10001]) {
    const x = rand(n);
    const y = rand(n, 0, 2);
    assertClose(b.multiply(x, y), ref.multiply(x, y), { atol: 1e-7, rtol: 1e-6 }, `multiply ${n}`);
  }
});

runOps();
