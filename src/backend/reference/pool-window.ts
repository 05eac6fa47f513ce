// The cells of one pooling window, shared by the reference max and average pools so that both
// walk a window in the same order: rows top to bottom, then columns left to right.
import type { Conv2DInfo } from '../../geometry.js';

/** A buffer large enough for {@link windowCells} under `info`. */
export function windowBuffer(info: Conv2DInfo): Int32Array {
  return new Int32Array(info.filterHeight * info.filterWidth);
}

/**
 * Writes to `cells` the flat offset in x of channel 0 of each cell of the window at output
 * (n, oh, ow) that lies inside the image, in window order, and returns how many there are.
 */
export function windowCells(info: Conv2DInfo, n: number, oh: number, ow: number, cells: Int32Array): number {
  const { inHeight: H, inWidth: W, inChannels: C, filterHeight: KH, filterWidth: KW } = info;
  let count = 0;
  for (let i = 0; i < KH; i++) {
    const ih = oh * info.strideHeight - info.padTop + i;
    if (ih < 0 || ih >= H) continue;
    for (let j = 0; j < KW; j++) {
      const iw = ow * info.strideWidth - info.padLeft + j;
      if (iw < 0 || iw >= W) continue;
      cells[count++] = ((n * H + ih) * W + iw) * C;
    }
  }
  return count;
}
