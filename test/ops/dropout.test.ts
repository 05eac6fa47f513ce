// dropout (inverted, counter-based mask) on every backend against the reference: the same mask bit for
// bit, the generator checked against a second formulation in 32-bit integer operations, its
// statistics, and bad rates and seeds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dropoutBits, dropoutParams } from '../../src/backend/reference/dropout.js';
import { dropoutFast } from '../../src/backend/cpu/dropout-fast.js';
import { assertClose } from '../helpers.js';
import { opTest, runOps, rand, ref } from './backends.js';

/** The generator in integer operations (masks and shifts instead of floor and mod): the same bits. */
function bitsInt(seed: number, i: number): number {
  const k0 = seed & 0xfff;
  const k1 = (seed >>> 12) & 0xfff;
  const k2 = seed >>> 24;
  let L = (i >>> 12) & 0xfff;
  let R = i & 0xfff;
  const block = Math.floor(i / 2 ** 24);
  for (let r = 0; r < 8; r++) {
    const k = (k0 * (2 * r + 1) + k1 * (2 * r + 7) + (k2 + block) * (r + 11) + r * 2731) & 0xfff;
    const x = (R + k) & 0xfff;
    const next = (L + ((x * x) >>> 6) + x) & 0xfff;
    L = R;
    R = next;
  }
  return (L << 12) | R;
}

test('dropout generator: the reference loop draws the bits of the integer formulation, past 2²⁴ too', () => {
  for (const seed of [0, 1, 4095, 4096, 0xdeadbeef, 0xffffffff]) {
    const p = dropoutParams(0.5, seed);
    for (const i of [0, 1, 2, 4095, 4096, 65535, 123457, 2 ** 24 - 1, 2 ** 24, 2 ** 24 + 77]) {
      assert.is(dropoutBits(p, i), bitsInt(seed, i), `seed ${seed}, i ${i}`);
    }
  }
});

test('dropout generator: rates hold, neighbours and seeds are uncorrelated (5 sd bounds on 2¹⁷ values)', () => {
  const n = 1 << 17;
  const sd = Math.sqrt(0.25 / n);
  for (const seed of [7, 0x9e3779b9]) {
    const p = dropoutParams(0.3, seed);
    const q = dropoutParams(0.3, seed + 1);
    let kept = 0;
    let sameNext = 0;
    let sameSeed = 0;
    let high = 0;
    for (let i = 0; i < n; i++) {
      const b = dropoutBits(p, i);
      if (b >= p[3]) kept++;
      if (b >= 1 << 23 === dropoutBits(p, i + 1) >= 1 << 23) sameNext++;
      if (b >= 1 << 23 === dropoutBits(q, i) >= 1 << 23) sameSeed++;
      if (b & 1) high++;
    }
    assert.ok(Math.abs(kept / n - 0.7) < 5 * Math.sqrt(0.21 / n), `seed ${seed}: kept ${kept / n}, want 0.7`);
    assert.ok(Math.abs(sameNext / n - 0.5) < 5 * sd, `seed ${seed}: neighbours agree ${sameNext / n}`);
    assert.ok(Math.abs(sameSeed / n - 0.5) < 5 * sd, `seed ${seed} and +1 agree ${sameSeed / n}`);
    assert.ok(Math.abs(high / n - 0.5) < 5 * sd, `seed ${seed}: lowest bit set ${high / n}`);
  }
});

opTest('dropout', 'the reference mask bit for bit, values x/(1 − rate)', (b) => {
  for (const n of [1, 7, 4096, 10001]) {
    for (const [rate, seed] of [[0, 5], [0.3, 0], [0.5, 0xffffffff], [0.9, 123456789]] as const) {
      const x = rand(n, 0.5, 1.5);
      const got = b.dropout(x, rate, seed);
      const want = ref.dropout(x, rate, seed);
      const bad = Array.from(want).findIndex((v, i) => (v === 0) !== (got[i] === 0));
      assert.is(bad, -1, `n ${n}, rate ${rate}, seed ${seed}: mask differs at ${bad}`);
      assertClose(got, want, { atol: 0, rtol: 1e-7 }, `dropout n ${n}, rate ${rate}`);
      if (rate === 0) assertClose(got, x, { atol: 0, rtol: 0 }, 'rate 0 keeps every value');
    }
  }
});

test('dropout on the cpu engine: the reference bits across a 2²⁴ block boundary (new round keys) and in every lane', () => {
  const n = 2 ** 24 + 103;
  const x = new Float32Array(n).fill(1);
  for (const [rate, seed] of [[0.5, 0xdeadbeef], [0.25, 77]] as const) {
    const got = dropoutFast(x, rate, seed);
    const p = dropoutParams(rate, seed);
    for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 8, 4095, 4096, 65536, 2 ** 24 - 5, 2 ** 24 - 4, 2 ** 24 - 1, 2 ** 24, 2 ** 24 + 1, 2 ** 24 + 4, n - 4, n - 1]) {
      assert.is(got[i] !== 0, dropoutBits(p, i) >= p[3], `rate ${rate}, seed ${seed}, i ${i}`);
    }
  }
});

opTest('dropout', 'a rate outside [0, 1) or a seed that is not a uint32 throws, naming the op', (b) => {
  const x = rand(4);
  assert.throws(() => b.dropout(x, 1, 0), /^dropout: rate must be in \[0, 1\), got 1$/);
  assert.throws(() => b.dropout(x, -0.1, 0), /^dropout: rate must be in \[0, 1\), got -0.1$/);
  assert.throws(() => b.dropout(x, 0.5, -1), /^dropout: seed must be an integer in \[0, 2³²\), got -1$/);
  assert.throws(() => b.dropout(x, 0.5, 1.5), /^dropout: seed must be an integer in \[0, 2³²\), got 1.5$/);
  assert.throws(() => b.dropout(x, 0.5, 2 ** 32), /got 4294967296$/);
});

runOps();
