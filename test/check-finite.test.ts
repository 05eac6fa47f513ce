// checkFinite (src/model/data-args.ts), which validates every x, y and sample weight a model is
// given: each kind of non-finite float32 (NaN payloads, ±Infinity) at every position of the
// unrolled loop and its tail is found and named; the extreme finite values pass.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkFinite } from '../src/model/data-args.js';

const fromBits = (b: number): number => new Float32Array(new Uint32Array([b >>> 0]).buffer)[0];
const notFinite = [NaN, Infinity, -Infinity, fromBits(0x7f800001), fromBits(0xffffffff), fromBits(0xff800001)];
const extremes = [3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -1e-45, -0, 0, 1.1754943508222875e-38, fromBits(0x7f7fffff), fromBits(0xff7fffff)];

test('the extreme finite values pass, at any length and offset', () => {
  for (const n of [0, 1, 3, 4, 7, 64, 1001]) {
    const a = Float32Array.from({ length: n + 3 }, (_, i) => extremes[i % extremes.length]);
    checkFinite('op', 'x', a.subarray(3));
    checkFinite('op', 'x', a.subarray(0, n));
  }
});

test('every non-finite kind at every position is found, with its flat index', () => {
  for (const n of [1, 5, 11]) {
    for (let at = 0; at < n; at++) {
      for (const bad of notFinite) {
        const a = Float32Array.from({ length: n + 1 }, (_, i) => extremes[i % extremes.length]);
        a[at + 1] = bad;
        const view = a.subarray(1);
        assert.throws(() => checkFinite('predict', 'x', view), (err: Error) =>
          err.message === `predict: x contains ${view[at]} at flat index ${at}; inputs must be finite`, `n ${n}, index ${at}, ${bad}`);
      }
    }
  }
});

test.run();
