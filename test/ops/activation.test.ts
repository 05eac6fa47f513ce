// activation and activationBackward on every backend against the reference, for every kind, on
// sizes below and above the cpu backend's SIMD threshold (1024 values).
import type { ActivationKind } from '../../src/backend/types.js';
import { assertClose } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';

const KINDS: ActivationKind[] = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'leakyRelu', 'elu', 'selu', 'softplus', 'softsign', 'swish', 'hardSigmoid'];
// exp(x)−1 stands in for expm1 in the gpu kernels, SIMD exp in the cpu's: a few float32 ulps of 1.
const TOL = { atol: 2e-6, rtol: 1e-4 };

for (const kind of KINDS) {
  opTest('activation', `${kind} forward and backward`, (b) => {
    for (const [rows, c] of [[1, 4], [9, 5], [300, 7]] as [number, number][]) {
      const x = rand(rows * c, -8, 8);
      const dy = rand(rows * c);
      const alpha = 0.3;
      const y = ref.activation(kind, x, c, alpha);
      assertClose(b.activation(kind, x, c, alpha), y, TOL, `${kind} forward ${rows}x${c}`);
      assertClose(b.activationBackward(kind, dy, x, y, c, alpha), ref.activationBackward(kind, dy, x, y, c, alpha), TOL, `${kind} backward ${rows}x${c}`);
    }
  });
}

runOps();
