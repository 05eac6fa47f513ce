// batchNormTrain, batchNormInference and batchNormBackward on every backend against the reference.
import { assertClose } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';

const shapes: [number, number][] = [[2, 3], [25, 4], [32 * 16, 5], [4 * 10 * 10, 16]];
const eps = 1e-3;

opTest('batchNormTrain', 'y, batch mean, biased variance, x̂, invStd', (b) => {
  for (const [rows, c] of shapes) {
    const x = rand(rows * c, -2, 3);
    const gamma = rand(c, 0.5, 1.5);
    const beta = rand(c);
    const got = b.batchNormTrain(x, gamma, beta, c, eps);
    const want = ref.batchNormTrain(x, gamma, beta, c, eps);
    for (const key of ['y', 'mean', 'variance', 'xHat', 'invStd'] as const) assertClose(got[key], want[key], { atol: 1e-4, rtol: 1e-4 }, `batchNormTrain ${key} ${rows}x${c}`);
  }
});

opTest('batchNormInference', 'y from given statistics', (b) => {
  for (const [rows, c] of shapes) {
    const x = rand(rows * c, -2, 3);
    const [gamma, beta, mean, variance] = [rand(c, 0.5, 1.5), rand(c), rand(c), rand(c, 0.1, 2)];
    assertClose(b.batchNormInference(x, gamma, beta, mean, variance, c, eps), ref.batchNormInference(x, gamma, beta, mean, variance, c, eps), { atol: 1e-5, rtol: 1e-4 }, `batchNormInference ${rows}x${c}`);
  }
});

opTest('batchNormBackward', 'dx, dGamma, dBeta', (b) => {
  for (const [rows, c] of shapes) {
    const x = rand(rows * c, -2, 3);
    const gamma = rand(c, 0.5, 1.5);
    const fwd = ref.batchNormTrain(x, gamma, rand(c), c, eps);
    const dy = rand(rows * c);
    const got = b.batchNormBackward(dy, fwd.xHat, gamma, fwd.invStd, c);
    const want = ref.batchNormBackward(dy, fwd.xHat, gamma, fwd.invStd, c);
    assertClose(got.dx, want.dx, { atol: 1e-4, rtol: 1e-4 }, `batchNormBackward dx ${rows}x${c}`);
    assertClose(got.dGamma, want.dGamma, { atol: 1e-3, rtol: 1e-4 }, `batchNormBackward dGamma ${rows}x${c}`);
    assertClose(got.dBeta, want.dBeta, { atol: 1e-3, rtol: 1e-4 }, `batchNormBackward dBeta ${rows}x${c}`);
  }
});

runOps();
