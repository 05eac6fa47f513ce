// biasAdd and biasGrad on every backend against the reference.
import { assertClose } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';

const shapes: [number, number][] = [[1, 1], [7, 3], [64, 16], [1000, 5]];

opTest('biasAdd', 'y = x + bias over the last axis', (b) => {
  for (const [rows, c] of shapes) {
    const x = rand(rows * c);
    const bias = rand(c);
    assertClose(b.biasAdd(x, bias, c), ref.biasAdd(x, bias, c), { atol: 1e-6, rtol: 1e-6 }, `biasAdd ${rows}x${c}`);
  }
});

opTest('biasGrad', 'db = Σ dy per channel', (b) => {
  for (const [rows, c] of shapes) {
    const dy = rand(rows * c);
    assertClose(b.biasGrad(dy, c), ref.biasGrad(dy, c), { atol: 1e-4, rtol: 1e-4 }, `biasGrad ${rows}x${c}`);
  }
});

runOps();
