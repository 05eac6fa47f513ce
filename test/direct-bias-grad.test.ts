// The bias gradient summed inside the direct filter gradient (asm convBackpropFilterDirect with
// db: the first layer's conv2dBackward asked for dw and db) = the separate channelSum pass (asked
// for db alone), bit for bit, NaN and ±Infinity included; = the reference on finite values; one,
// two and three threads; 8, 16 and 24 output channels (the 16- and 8-channel sweeps), odd sizes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCpuBackend, referenceBackend } from '../src/backend/index.js';
import { convFast } from '../src/backend/wasm/conv-fast.js';
import { useDirect, useWinograd } from '../src/backend/wasm/conv-plan.js';
import { gemmFast } from '../src/backend/wasm/gemm.js';
import { conv2dInfo } from '../src/geometry.js';
import { assertClose, randomArray, withThreads } from './helpers.js';

const fast = createCpuBackend('cpu', gemmFast, convFast);
const ref = referenceBackend;

test('direct filter gradient with db = channelSum db, bit for bit; = reference; 1, 2, 3 threads', () => {
  const cases: [number, number, number, number, number, [number, number], 'same' | 'valid'][] = [
    [32, 100, 100, 3, 16, [1, 1], 'same'],
    [3, 9, 7, 3, 24, [1, 1], 'same'],
    [5, 11, 13, 2, 8, [2, 2], 'valid'],
    [2, 6, 5, 4, 16, [1, 2], 'same'],
  ];
  for (const t of [1, 2, 3]) {
    withThreads(t, () => {
      for (const [n, h, w, c, f, s, pad] of cases) {
        const info = conv2dInfo([n, h, w, c], [3, 3], f, s, pad);
        assert.ok(useDirect(info) && !useWinograd(info), 'the direct kernels run');
        const what = `[${n},${h},${w},${c}]→${f} stride ${s.join('×')} ${pad}, ${t} threads`;
        const x = randomArray(n * h * w * c, h + f + t);
        const wt = randomArray(9 * c * f, f);
        const dy = randomArray(n * info.outHeight * info.outWidth * f, n + h + t, -1, 1);
        const both = fast.fused.conv!.conv2dBackward(x, wt, dy, dy, info, 'linear', { dx: false, dw: true, db: true });
        const alone = fast.fused.conv!.conv2dBackward(x, wt, dy, dy, info, 'linear', { dx: false, dw: false, db: true });
        assert.equal(Array.from(both.db!), Array.from(alone.db!), `db with dw = db alone ${what}`);
        assertClose(both.db!, ref.biasGrad(dy, f), { atol: 0, rtol: 0 }, `db = reference ${what}`);
        assertClose(both.dw!, ref.conv2dBackpropFilter(x, dy, info), { atol: 2e-6 * (4 + Math.sqrt(n * info.outHeight * info.outWidth) * 2), rtol: 1e-4 }, `dw = reference ${what}`);
        dy[f + 1] = NaN;
        dy[dy.length - 1] = Infinity;
        dy[dy.length - f] = -Infinity;
        const nanBoth = fast.fused.conv!.conv2dBackward(x, wt, dy, dy, info, 'linear', { dx: false, dw: true, db: true }).db!;
        const nanAlone = fast.fused.conv!.conv2dBackward(x, wt, dy, dy, info, 'linear', { dx: false, dw: false, db: true }).db!;
        for (let i = 0; i < f; i++) {
          if (!Object.is(nanBoth[i], nanAlone[i])) assert.unreachable(`db with NaN/±Infinity ${what}: channel ${i}: got ${nanBoth[i]}, expected ${nanAlone[i]}`);
        }
        assert.ok(Number.isNaN(nanBoth[1]) && Number.isNaN(nanBoth[0]) === (f === 1), `NaN reaches db[1] only ${what}`);
      }
    });
  }
});

test.run();
