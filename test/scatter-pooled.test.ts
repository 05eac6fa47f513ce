// The pooled gradient's scatter of the cpu backend (asm scatterPooledGradWindows: window by window,
// every dz cell written once) against its definition: dz = 0, then dy at each argmax cell where
// relu passes (y > 0), and db = Σ of the values put, in f64 — bit for bit, on odd sizes (rows and
// columns no window covers), channels not a multiple of four, NaN, over split row ranges; then
// conv2dMaxPoolBackward through it on one, two and three threads = the same op given an argmax
// of unknown geometry (the plain scatter), bit for bit, and = the reference.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCpuBackend, referenceBackend } from '../src/backend/index.js';
import { convFast } from '../src/backend/wasm/conv-fast.js';
import { writePoolGeometry } from '../src/backend/wasm/elementwise-fast.js';
import { getEngine, reserve } from '../src/backend/wasm/engine.js';
import { gemmFast } from '../src/backend/wasm/gemm.js';
import { conv2dInfo } from '../src/geometry.js';
import { assertClose, randomArray, withThreads } from './helpers.js';

const fast = createCpuBackend('cpu', gemmFast, convFast);
const ref = referenceBackend;

function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.unreachable(`${what}: index ${i}: got ${got[i]}, expected ${want[i]}`);
  }
}

// [batch, H, W, C] of the convolution's output and the pool size.
const shapes: [number, number, number, number, number, number][] = [
  [1, 2, 2, 4, 2, 2],
  [2, 7, 9, 5, 2, 2],
  [3, 6, 7, 8, 3, 2],
  [2, 9, 5, 3, 2, 3],
  [1, 5, 5, 1, 5, 5],
  [4, 13, 11, 36, 2, 2],
];

test('scatterPooledGradWindows = zero, scatter at the argmax where relu passes, and its bias gradient; bit for bit', () => {
  const e = getEngine()!;
  for (const [n, H, W, C, kh, kw] of shapes) {
    const pool = conv2dInfo([n, H, W, C], [kh, kw], C, [kh, kw], 'valid');
    const z = randomArray(n * H * W * C, H * 31 + C, -1, 1);
    z[1] = NaN;
    z[z.length - 1] = NaN;
    for (const relu of [false, true]) {
      const a = relu ? ref.activation('relu', z, C, 0) : z;
      const { y, argmax } = ref.maxPool(a, pool);
      const dy = randomArray(y.length, H + W, -2, 2);
      dy[0] = NaN;
      if (dy.length > 5) dy[5] = -0;
      const want = new Float32Array(z.length);
      const wantDb = new Float64Array(C);
      for (let i = 0; i < y.length; i++) {
        if (relu && !(y[i] > 0)) continue;
        want[argmax[i]] = dy[i];
        wantDb[i % C] += dy[i];
      }
      const Q = n * pool.outHeight;
      for (const cut of [0, 1, Q >> 1, Q]) {
        const what = `[${n},${H},${W},${C}] pool ${kh}×${kw} relu ${relu} rows split at ${cut}`;
        const at = e.workBase;
        const offG = at;
        const offDy = offG + 64;
        const offY = offDy + y.length * 4;
        const offA = offY + y.length * 4;
        const offDz = offA + y.length * 4;
        const offDb = offDz + z.length * 4 + 64;
        assert.ok(reserve(e, offDb + C * 8 * 2));
        e.f32.set(dy, offDy >> 2);
        e.f32.set(y, offY >> 2);
        new Int32Array(e.memory.buffer, offA, y.length).set(argmax);
        e.f32.fill(7.5, offDz >> 2, (offDz >> 2) + z.length + 16);
        new Float64Array(e.memory.buffer, offDb, 2 * C).fill(0);
        writePoolGeometry(e, offG, pool, offDz, offY, offA);
        e.wasm.scatterPooledGradWindows(offG, 0, cut, offDy, relu ? 1 : 0, offDb);
        e.wasm.scatterPooledGradWindows(offG, cut, Q, offDy, relu ? 1 : 0, offDb + C * 8);
        assertSame(e.f32.subarray(offDz >> 2, (offDz >> 2) + z.length), want, `dz ${what}`);
        assertSame(e.f32.subarray((offDz >> 2) + z.length, (offDz >> 2) + z.length + 16), new Float32Array(16).fill(7.5), `past dz ${what}`);
        const parts = new Float64Array(e.memory.buffer, offDb, 2 * C);
        const db = Float64Array.from({ length: C }, (_, i) => parts[i] + parts[i + C]);
        // One row range: the same f64 sums in the same order; two: the same up to f64 rounding.
        if (cut === 0 || cut === Q) assertSame(db, wantDb, `db ${what}`);
        for (let i = 0; i < C; i++) {
          const ok = Number.isNaN(wantDb[i]) ? Number.isNaN(db[i]) : Math.abs(db[i] - wantDb[i]) <= 1e-12 * (1 + Math.abs(wantDb[i]));
          if (!ok) assert.unreachable(`db ${what}: channel ${i}: got ${db[i]}, expected ${wantDb[i]}`);
        }
      }
    }
  }
});

test('conv2dMaxPoolBackward with the pool of conv2dMaxPoolTrain = with a foreign argmax (plain scatter), bit for bit, = reference; one, two, three threads', () => {
  const cases: [number, number, number, number, number, [number, number]][] = [
    [2, 9, 11, 3, 5, [2, 2]],
    [32, 12, 12, 8, 16, [2, 2]],
    [3, 13, 10, 4, 8, [3, 2]],
    [16, 25, 25, 8, 12, [2, 2]],
  ];
  for (const t of [1, 2, 3]) {
    withThreads(t, () => {
      for (const [n, h, w, c, f, p] of cases) {
        const info = conv2dInfo([n, h, w, c], [3, 3], f, [1, 1], 'same');
        const pool = conv2dInfo([n, info.outHeight, info.outWidth, f], p, f, p, 'valid');
        const x = randomArray(n * h * w * c, h * 7 + t);
        x[2] = NaN;
        const wt = randomArray(9 * c * f, f);
        const bias = randomArray(f, f + 1);
        for (const act of ['relu', 'linear'] as const) {
          const what = `[${n},${h},${w},${c}]→${f} pool ${p.join('×')} ${act}, ${t} threads`;
          const train = fast.fused.conv!.conv2dMaxPoolTrain(x, wt, bias, info, act, pool);
          const dy = randomArray(train.y.length, n + t);
          dy[3] = NaN;
          for (const need of [{ dx: true, dw: true, db: true }, { dx: true, dw: false, db: false }, { dx: false, dw: true, db: true }]) {
            const got = fast.fused.conv!.conv2dMaxPoolBackward(x, wt, dy, train.y, train.argmax, info, act, need);
            const plain = fast.fused.conv!.conv2dMaxPoolBackward(x, wt, dy, train.y, Int32Array.from(train.argmax), info, act, need);
            for (const k of ['dx', 'dw', 'db'] as const) {
              assert.is(got[k] === null, !need[k], `${k} computed only when asked: ${what}`);
              if (got[k]) assertSame(got[k]!, plain[k]!, `${k} ${what} ${JSON.stringify(need)}`);
            }
          }
          // Against the reference away from the NaN (its cell's row and neighbours go NaN in both).
          const xc = Float32Array.from(x, (v) => (Number.isNaN(v) ? 0.5 : v));
          const trainC = fast.fused.conv!.conv2dMaxPoolTrain(xc, wt, bias, info, act, pool);
          const dyC = Float32Array.from(dy, (v) => (Number.isNaN(v) ? 0.25 : v));
          const need = { dx: true, dw: true, db: true };
          const got = fast.fused.conv!.conv2dMaxPoolBackward(xc, wt, dyC, trainC.y, trainC.argmax, info, act, need);
          const want = ref.fused.conv!.conv2dMaxPoolBackward(xc, wt, dyC, trainC.y, trainC.argmax, info, act, need);
          const rows = n * info.outHeight * info.outWidth;
          assertClose(got.dx!, want.dx!, { atol: 2e-6 * (4 + Math.sqrt(9 * f) * 2), rtol: 1e-4 }, `dx = reference ${what}`);
          assertClose(got.dw!, want.dw!, { atol: 2e-6 * (4 + Math.sqrt(rows) * 2), rtol: 1e-4 }, `dw = reference ${what}`);
          assertClose(got.db!, want.db!, { atol: 0, rtol: 0 }, `db = reference ${what}`);
        }
      }
    });
  }
});

test.run();
