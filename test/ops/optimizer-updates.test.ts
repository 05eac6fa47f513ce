// sgdUpdate (plain, momentum, Nesterov), adamUpdate and rmspropUpdate on every backend against the
// reference: three steps in place, every state array compared.
import type { Backend } from '../../src/backend/types.js';
import { assertClose, randomArray } from '../helpers.js';
import { opTest, runOps, ref } from './backends.js';

function threeSteps(backend: Backend, n: number): Record<string, Float32Array> {
  const value = randomArray(n, 7);
  const grads = [randomArray(n, 8), randomArray(n, 9), randomArray(n, 10)];
  const s = {
    plain: value.slice(), mom: value.slice(), vel: new Float32Array(n), nes: value.slice(), vel2: new Float32Array(n),
    adam: value.slice(), m: new Float32Array(n), v: new Float32Array(n), rms: value.slice(), ms: new Float32Array(n),
  };
  grads.forEach((g, i) => {
    backend.sgdUpdate(s.plain, g, null, 0.1, 0, false);
    backend.sgdUpdate(s.mom, g, s.vel, 0.1, 0.9, false);
    backend.sgdUpdate(s.nes, g, s.vel2, 0.1, 0.9, true);
    backend.adamUpdate(s.adam, g, s.m, s.v, 0.01, 0.9, 0.999, 1e-7, i + 1);
    backend.rmspropUpdate(s.rms, g, s.ms, 0.01, 0.9, 1e-7);
  });
  return s;
}

opTest('sgdUpdate, adamUpdate, rmspropUpdate', 'three steps in place', (b, name) => {
  // 70001: past the size where the cpu backend runs SGD in the engine (f64 lanes and a tail).
  for (const n of [37, 1030, 70001]) {
    const got = threeSteps(b, n);
    const want = threeSteps(ref, n);
    for (const key of Object.keys(want)) {
      // The cpu backend's SGD computes the reference's f64 arithmetic: the same bits.
      const exact = name === 'cpu' && ['plain', 'mom', 'vel', 'nes', 'vel2'].includes(key);
      assertClose(got[key], want[key], exact ? { atol: 0, rtol: 0 } : { atol: 1e-5, rtol: 1e-4 }, `update ${key} n=${n}`);
    }
  }
});

runOps();
