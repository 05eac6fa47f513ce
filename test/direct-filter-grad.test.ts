// The direct filter gradient's pair-block path (asm/direct-filter-grad.ts: column stride and
// dilation 1, F a multiple of 16) = the reference, over the geometry its interior/border split
// and its cross-row pairing depend on: 'same' and 'valid', images narrower than the filter (no
// interior columns), odd and even K = KW·C, row stride and dilation, 16 and 32 channels, one to
// three threads; and the same bits on a repeated call.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCpuBackend, referenceBackend } from '../src/backend/index.js';
import { convFast } from '../src/backend/wasm/conv-fast.js';
import { useDirect, useWinograd } from '../src/backend/wasm/conv-plan.js';
import { gemmFast } from '../src/backend/wasm/gemm.js';
import { conv2dInfo, type Padding } from '../src/geometry.js';
import { assertClose, randomArray, withThreads } from './helpers.js';

const fast = createCpuBackend('cpu', gemmFast, convFast);
const ref = referenceBackend;

// [batch, h, w, c, f, [kh, kw], [sh, sw], pad, [dh, dw]]
type Case = [number, number, number, number, number, [number, number], [number, number], Padding, [number, number]];
const cases: Case[] = [
  [4, 12, 11, 3, 16, [3, 3], [1, 1], 'same', [1, 1]],
  [3, 9, 10, 3, 32, [3, 3], [1, 1], 'valid', [1, 1]],
  [2, 7, 2, 3, 16, [3, 3], [1, 1], 'same', [1, 1]],
  [2, 5, 1, 2, 16, [3, 3], [1, 1], 'same', [1, 1]],
  [3, 8, 9, 1, 16, [3, 5], [1, 1], 'same', [1, 1]],
  [2, 9, 8, 4, 16, [2, 2], [1, 1], 'same', [1, 1]],
  [2, 11, 7, 2, 32, [3, 3], [2, 1], 'same', [1, 1]],
  [2, 10, 9, 3, 16, [3, 3], [1, 1], 'same', [2, 1]],
  [1, 6, 6, 4, 16, [5, 3], [1, 1], 'valid', [1, 1]],
];

test('direct filter gradient in pair blocks = reference; 1, 2, 3 threads; repeatable', () => {
  for (const t of [1, 2, 3]) {
    withThreads(t, () => {
      for (const [n, h, w, c, f, k, s, pad, d] of cases) {
        const info = conv2dInfo([n, h, w, c], k, f, s, pad, d);
        assert.ok(useDirect(info) && !useWinograd(info), 'the direct kernels run');
        const what = `[${n},${h},${w},${c}] ⋆ ${k.join('×')}×${f} stride ${s.join('×')} ${pad} dilation ${d.join('×')}, ${t} threads`;
        const x = randomArray(n * h * w * c, h + w + f + t);
        const dy = randomArray(n * info.outHeight * info.outWidth * f, n + h + c + t);
        const dw = fast.conv2dBackpropFilter(x, dy, info);
        assertClose(dw, ref.conv2dBackpropFilter(x, dy, info), { atol: 2e-6 * (4 + Math.sqrt(n * info.outHeight * info.outWidth) * 2), rtol: 1e-4 }, `dw = reference ${what}`);
        assert.equal(Array.from(fast.conv2dBackpropFilter(x, dy, info)), Array.from(dw), `dw repeated, same bits ${what}`);
      }
    });
  }
});

test.run();
