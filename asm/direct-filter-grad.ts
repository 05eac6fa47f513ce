// The direct filter gradient's row kernel for unit column stride and dilation with F a multiple
// of 16 (asm/direct.ts convBackpropFilterDirect calls it). With sw = dw = 1 the K = KW·C values
// that one output column ow meets in an input row are contiguous, x_flat[(ow − pl)·C + k] for
// k = j·C + c, so part[(i, k), f] = Σ_ow x_flat[(ow − pl)·C + k] · dy[ow, f]: every (tap row, k)
// is one x value per column times one dy row.
//
// Blocks of two (tap row, k) × 16 channels: 8 accumulators, four independent multiply-add chains
// per dy vector, enough to keep both FMA pipes busy through their latency (six, as in the per-tap
// sweep, leave a quarter idle); 8 + 4 dy vectors + 1 x value live, within V8's 15 registers. The
// odd k of each tap row is paired across tap rows. Columns where some tap falls outside the image
// (the 'same' border) are added afterwards, one column at a time, so the interior loop has no tests.
// Every path sums in a fixed order set by the geometry alone: the same bits run to run, whatever
// the threads' timing.

import { gi, G_H, G_W, G_C, G_OH, G_OW, G_F, G_KH, G_KW, G_SH, G_DH, G_PT, G_PL, G_X, G_DY } from './geometry';
import { madd } from './microkernel';

// pa[f0..f0+16) += Σ_ow xa[ow·C] · dy[ow, f0..], and the same for (xb, pb), over n columns.
// @ts-ignore: decorator
@inline
function pairBlock(xa: usize, xb: usize, dyp: usize, n: i32, xStep: usize, rowF: usize, pa: usize, pb: usize): void {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero, b0 = zero, b1 = zero, b2 = zero, b3 = zero;
  let oa = xa, ob = xb, dp = dyp;
  for (let t = 0; t < n; t++) {
    const g0 = v128.load(dp), g1 = v128.load(dp, 16), g2 = v128.load(dp, 32), g3 = v128.load(dp, 48);
    let xv = v128.load32_splat(oa);
    a0 = madd(xv, g0, a0); a1 = madd(xv, g1, a1); a2 = madd(xv, g2, a2); a3 = madd(xv, g3, a3);
    xv = v128.load32_splat(ob);
    b0 = madd(xv, g0, b0); b1 = madd(xv, g1, b1); b2 = madd(xv, g2, b2); b3 = madd(xv, g3, b3);
    oa += xStep;
    ob += xStep;
    dp += rowF;
  }
  v128.store(pa, f32x4.add(v128.load(pa), a0));
  v128.store(pa, f32x4.add(v128.load(pa, 16), a1), 16);
  v128.store(pa, f32x4.add(v128.load(pa, 32), a2), 32);
  v128.store(pa, f32x4.add(v128.load(pa, 48), a3), 48);
  v128.store(pb, f32x4.add(v128.load(pb), b0));
  v128.store(pb, f32x4.add(v128.load(pb, 16), b1), 16);
  v128.store(pb, f32x4.add(v128.load(pb, 32), b2), 32);
  v128.store(pb, f32x4.add(v128.load(pb, 48), b3), 48);
}

// pairBlock for one (tap row, k): four accumulators.
// @ts-ignore: decorator
@inline
function singleBlock(xa: usize, dyp: usize, n: i32, xStep: usize, rowF: usize, pa: usize): void {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
  let oa = xa, dp = dyp;
  for (let t = 0; t < n; t++) {
    const xv = v128.load32_splat(oa);
    a0 = madd(xv, v128.load(dp), a0); a1 = madd(xv, v128.load(dp, 16), a1);
    a2 = madd(xv, v128.load(dp, 32), a2); a3 = madd(xv, v128.load(dp, 48), a3);
    oa += xStep;
    dp += rowF;
  }
  v128.store(pa, f32x4.add(v128.load(pa), a0));
  v128.store(pa, f32x4.add(v128.load(pa, 16), a1), 16);
  v128.store(pa, f32x4.add(v128.load(pa, 32), a2), 32);
  v128.store(pa, f32x4.add(v128.load(pa, 48), a3), 48);
}

/**
 * Adds output row q = (n, oh)'s terms to part[(i, j, c), f] (see asm/direct.ts
 * convBackpropFilterDirect), for column stride and dilation 1 and F a multiple of 16.
 */
// @ts-ignore: decorator
@inline
export function filterGradRow16(g: usize, q: i32, part: usize): void {
  const H = gi(g, G_H), W = gi(g, G_W), C = gi(g, G_C), OH = gi(g, G_OH), OW = gi(g, G_OW), F = gi(g, G_F);
  const KH = gi(g, G_KH), KW = gi(g, G_KW), sh = gi(g, G_SH), dh = gi(g, G_DH), pt = gi(g, G_PT), pl = gi(g, G_PL);
  const x = <usize>gi(g, G_X), dy = <usize>gi(g, G_DY);
  const rowF = <usize>F << 2;
  const xStep = <usize>C << 2;
  const K = KW * C;
  const n = q / OH;
  const oh = q - n * OH;
  // Interior columns [owA, owB): every tap column j has 0 ≤ ow − pl + j < W.
  let owA = pl > 0 ? pl : 0;
  if (owA > OW) owA = OW;
  let owB = W - KW + 1 + pl;
  if (owB > OW) owB = OW;
  if (owB < owA) owB = owA;
  const cols = owB - owA;
  const dyRow = dy + <usize>(q * OW) * rowF;
  const xImage = x + (<usize>(n * H * W * C) << 2);
  if (cols > 0) {
    for (let f0 = 0; f0 < F; f0 += 16) {
      const dyp = dyRow + <usize>owA * rowF + (<usize>f0 << 2);
      // The odd k left over by a tap row waits here for the next tap row's.
      let heldX: usize = 0, heldP: usize = 0;
      for (let i = 0; i < KH; i++) {
        const ih = oh * sh - pt + i * dh;
        if (ih < 0 || ih >= H) continue;
        const xr = xImage + (<usize>((ih * W + owA - pl) * C) << 2);
        const pr = part + <usize>(i * K) * rowF + (<usize>f0 << 2);
        let k = 0;
        for (; k + 2 <= K; k += 2) {
          pairBlock(xr + (<usize>k << 2), xr + (<usize>(k + 1) << 2), dyp, cols, xStep, rowF, pr + <usize>k * rowF, pr + <usize>(k + 1) * rowF);
        }
        if (k < K) {
          const xk = xr + (<usize>k << 2), pk = pr + <usize>k * rowF;
          if (heldP != 0) {
            pairBlock(heldX, xk, dyp, cols, xStep, rowF, heldP, pk);
            heldP = 0;
          } else {
            heldX = xk;
            heldP = pk;
          }
        }
      }
      if (heldP != 0) singleBlock(heldX, dyp, cols, xStep, rowF, heldP);
    }
  }
  // Border columns: each tap inside the image added straight into part.
  for (let ow = 0; ow < OW; ow++) {
    if (ow == owA) ow = owB;
    if (ow >= OW) break;
    const dp = dyRow + <usize>ow * rowF;
    for (let i = 0; i < KH; i++) {
      const ih = oh * sh - pt + i * dh;
      if (ih < 0 || ih >= H) continue;
      for (let j = 0; j < KW; j++) {
        const iw = ow - pl + j;
        if (iw < 0 || iw >= W) continue;
        const xp = xImage + (<usize>((ih * W + iw) * C) << 2);
        const pj = part + <usize>((i * KW + j) * C) * rowF;
        for (let c = 0; c < C; c++) {
          const xv = v128.load32_splat(xp + (<usize>c << 2));
          const pc = pj + <usize>c * rowF;
          for (let f0 = 0; f0 < F; f0 += 4) {
            const o = <usize>f0 << 2;
            v128.store(pc + o, madd(xv, v128.load(dp + o), v128.load(pc + o)));
          }
        }
      }
    }
  }
}
