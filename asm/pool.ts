// Max pooling and the fused ops around it, NHWC f32:
//   max pool     y[o, c] = first max of the window in window order, NaN wins; argmax = flat x index
//   avg pool     y[o, c] = mean of the window's cells inside the image (f64 sums, as the reference)
//   bn-act-pool  max pool of act(batch norm(x)); its backward: the sums, then every dx in one pass
//   scatter      dz of a convolution whose (relu) output fed a max pool, with its bias gradient
// Pool geometry in the block at g (P_* of asm/geometry.ts); pointers are byte offsets into the
// shared memory.

import { gi, P_H, P_W, P_C, P_OH, P_OW, P_KH, P_KW, P_SH, P_SW, P_PT, P_PL, P_X, P_Y, P_ARGMAX } from './geometry';

/**
 * Max pooling of output rows (n, oh) in [q0, q1): y = the first maximum in window order, a NaN
 * replacing any number (so the first NaN wins), argmax its flat index in x; -Infinity and -1
 * where a window holds no input cell.
 */
export function maxPool(g: usize, q0: i32, q1: i32): void {
  const H = gi(g, P_H), W = gi(g, P_W), C = gi(g, P_C), OH = gi(g, P_OH), OW = gi(g, P_OW);
  const KH = gi(g, P_KH), KW = gi(g, P_KW), sh = gi(g, P_SH), sw = gi(g, P_SW), pt = gi(g, P_PT), pl = gi(g, P_PL);
  const x = <usize>gi(g, P_X), y = <usize>gi(g, P_Y), am = <usize>gi(g, P_ARGMAX);
  const C4 = C & ~3;
  const lanes = i32x4(0, 1, 2, 3);
  for (let q = q0; q < q1; q++) {
    const n = q / OH;
    const oh = q - n * OH;
    const ihLo = max(oh * sh - pt, 0);
    const ihHi = min(oh * sh - pt + KH, H);
    for (let ow = 0; ow < OW; ow++) {
      const iwLo = max(ow * sw - pl, 0);
      const iwHi = min(ow * sw - pl + KW, W);
      const o = (<usize>(q * OW + ow) * <usize>C) << 2;
      if (ihLo >= ihHi || iwLo >= iwHi) {
        for (let c = 0; c < C; c++) {
          store<f32>(y + o + (<usize>c << 2), -Infinity);
          store<i32>(am + o + (<usize>c << 2), -1);
        }
        continue;
      }
      const first = ((n * H + ihLo) * W + iwLo) * C;
      let c = 0;
      for (; c < C4; c += 4) {
        let best = v128.load(x + (<usize>(first + c) << 2));
        let arg = i32x4.add(i32x4.splat(first + c), lanes);
        for (let ih = ihLo; ih < ihHi; ih++) {
          for (let iw = ih == ihLo ? iwLo + 1 : iwLo; iw < iwHi; iw++) {
            const src = ((n * H + ih) * W + iw) * C + c;
            const v = v128.load(x + (<usize>src << 2));
            const take = v128.or(f32x4.gt(v, best), v128.andnot(f32x4.eq(best, best), f32x4.eq(v, v)));
            best = v128.bitselect(v, best, take);
            arg = v128.bitselect(i32x4.add(i32x4.splat(src), lanes), arg, take);
          }
        }
        v128.store(y + o + (<usize>c << 2), best);
        v128.store(am + o + (<usize>c << 2), arg);
      }
      for (; c < C; c++) {
        let best = load<f32>(x + (<usize>(first + c) << 2));
        let arg = first + c;
        for (let ih = ihLo; ih < ihHi; ih++) {
          for (let iw = ih == ihLo ? iwLo + 1 : iwLo; iw < iwHi; iw++) {
            const src = ((n * H + ih) * W + iw) * C + c;
            const v = load<f32>(x + (<usize>src << 2));
            if (v > best || (v != v && best == best)) {
              best = v;
              arg = src;
            }
          }
        }
        store<f32>(y + o + (<usize>c << 2), best);
        store<i32>(am + o + (<usize>c << 2), arg);
      }
    }
  }
}

/**
 * Average pooling of output rows (n, oh) in [q0, q1): each window's cells inside the image summed
 * in f64 in window order (rows, then columns) per channel, divided by their count (NaN for a
 * window without any), rounded to f32: the reference's avgPool bit for bit. Two channels per
 * f64x2; the window's cells are walked once per channel pair (one image's rows stay in cache).
 */
export function avgPool(g: usize, q0: i32, q1: i32): void {
  const H = gi(g, P_H), W = gi(g, P_W), C = gi(g, P_C), OH = gi(g, P_OH), OW = gi(g, P_OW);
  const KH = gi(g, P_KH), KW = gi(g, P_KW), sh = gi(g, P_SH), sw = gi(g, P_SW), pt = gi(g, P_PT), pl = gi(g, P_PL);
  const x = <usize>gi(g, P_X), y = <usize>gi(g, P_Y);
  const C2 = C & ~1;
  for (let q = q0; q < q1; q++) {
    const n = q / OH;
    const oh = q - n * OH;
    const ihLo = max(oh * sh - pt, 0);
    const ihHi = min(oh * sh - pt + KH, H);
    for (let ow = 0; ow < OW; ow++) {
      const iwLo = max(ow * sw - pl, 0);
      const iwHi = min(ow * sw - pl + KW, W);
      const count = f64(max(ihHi - ihLo, 0) * max(iwHi - iwLo, 0));
      const o = y + ((<usize>(q * OW + ow) * <usize>C) << 2);
      let c = 0;
      for (; c < C2; c += 2) {
        let acc = f64x2.splat(0);
        for (let ih = ihLo; ih < ihHi; ih++) {
          const row = x + ((<usize>(((n * H + ih) * W) * C + c)) << 2);
          for (let iw = iwLo; iw < iwHi; iw++) acc = f64x2.add(acc, f64x2.promote_low_f32x4(v128.load64_zero(row + ((<usize>(iw * C)) << 2))));
        }
        v128.store64_lane(o + (<usize>c << 2), f32x4.demote_f64x2_zero(f64x2.div(acc, f64x2.splat(count))), 0);
      }
      if (c < C) {
        let acc: f64 = 0;
        for (let ih = ihLo; ih < ihHi; ih++) {
          for (let iw = iwLo; iw < iwHi; iw++) acc += <f64>load<f32>(x + ((<usize>(((n * H + ih) * W + iw) * C + c)) << 2));
        }
        store<f32>(o + (<usize>c << 2), <f32>(acc / count));
      }
    }
  }
}

// Fused training-mode batch norm → relu (or linear) → max pool over windows that do not overlap
// (strides = pool size, 'valid'): the same values, in the same f32 operations, as batchNormApply,
// reluForward, maxPool and their backward passes one after the other, without the full-size
// intermediates. z = γ·((x − mean)·invStd) + β, a = relu ? (z > 0 ? z : 0) : z.

/** Pooled rows (n, oh) in [q0, q1) of max(a) over each window: y and argmax (flat x index) as maxPool. */
export function bnActMaxPool(g: usize, q0: i32, q1: i32, mean: usize, invStd: usize, gamma: usize, beta: usize, relu: bool): void {
  const H = gi(g, P_H), W = gi(g, P_W), C = gi(g, P_C), OH = gi(g, P_OH), OW = gi(g, P_OW);
  const KH = gi(g, P_KH), KW = gi(g, P_KW), sh = gi(g, P_SH), sw = gi(g, P_SW);
  const x = <usize>gi(g, P_X), y = <usize>gi(g, P_Y), am = <usize>gi(g, P_ARGMAX);
  const C4 = C & ~3;
  const lanes = i32x4(0, 1, 2, 3);
  const zero = f32x4.splat(0);
  for (let q = q0; q < q1; q++) {
    const n = q / OH;
    const oh = q - n * OH;
    const ih0 = oh * sh;
    for (let ow = 0; ow < OW; ow++) {
      const iw0 = ow * sw;
      const o = (<usize>(q * OW + ow) * <usize>C) << 2;
      let c = 0;
      for (; c < C4; c += 4) {
        const k = <usize>c << 2;
        const mv = v128.load(mean + k), sv = v128.load(invStd + k), gv = v128.load(gamma + k), bv = v128.load(beta + k);
        let best = zero;
        let arg = zero;
        for (let i = 0; i < KH; i++) {
          for (let j = 0; j < KW; j++) {
            const src = ((n * H + ih0 + i) * W + iw0 + j) * C + c;
            let v = f32x4.add(f32x4.mul(gv, f32x4.mul(f32x4.sub(v128.load(x + (<usize>src << 2)), mv), sv)), bv);
            if (relu) v = v128.and(v, f32x4.gt(v, zero));
            const idx = i32x4.add(i32x4.splat(src), lanes);
            if (i == 0 && j == 0) {
              best = v;
              arg = idx;
              continue;
            }
            const take = v128.or(f32x4.gt(v, best), v128.andnot(f32x4.eq(best, best), f32x4.eq(v, v)));
            best = v128.bitselect(v, best, take);
            arg = v128.bitselect(idx, arg, take);
          }
        }
        v128.store(y + o + k, best);
        v128.store(am + o + k, arg);
      }
      for (; c < C; c++) {
        const k = <usize>c << 2;
        const m = load<f32>(mean + k), s = load<f32>(invStd + k), gm = load<f32>(gamma + k), bt = load<f32>(beta + k);
        let best: f32 = 0;
        let arg = 0;
        for (let i = 0; i < KH; i++) {
          for (let j = 0; j < KW; j++) {
            const src = ((n * H + ih0 + i) * W + iw0 + j) * C + c;
            let v = gm * ((load<f32>(x + (<usize>src << 2)) - m) * s) + bt;
            if (relu) v = v > 0 ? v : 0;
            if ((i == 0 && j == 0) || v > best || (v != v && best == best)) {
              best = v;
              arg = src;
            }
          }
        }
        store<f32>(y + o + k, best);
        store<i32>(am + o + k, arg);
      }
    }
  }
}

// xHat = (x − mean)·invStd at the argmax cell of pooled element i (channel byte offset q).
// @ts-ignore: decorator
@inline
function argmaxXHat(x: usize, am: usize, i: usize, mean: usize, invStd: usize, q: usize): f32 {
  const cell = <usize>load<i32>(am + (i << 2));
  return (load<f32>(x + (cell << 2)) - load<f32>(mean + q)) * load<f32>(invStd + q);
}

// relu' at a cell: z = γ·xHat + β > 0 (NaN: no).
// @ts-ignore: decorator
@inline
function reluPasses(h: f32, gamma: usize, beta: usize, q: usize): bool {
  return load<f32>(gamma + q) * h + load<f32>(beta + q) > 0;
}

/**
 * Backward sums over pooled rows [q0, q1): acc[c] += Σ dz and acc[C + c] += Σ dz·xHat (f64), where
 * dz is the pooled gradient at its argmax cell, masked by relu' (z > 0); every other cell's dz is 0.
 * Four channels at a time: each window cell's xHat is computed and kept where it is the argmax
 * (no gather), the sums of one pooled row stay in registers.
 */
export function bnActPoolBackwardSums(g: usize, q0: i32, q1: i32, dy: usize, mean: usize, invStd: usize, gamma: usize, beta: usize, relu: bool, acc: usize): void {
  const H = gi(g, P_H), W = gi(g, P_W), C = gi(g, P_C), OH = gi(g, P_OH), OW = gi(g, P_OW), KH = gi(g, P_KH), KW = gi(g, P_KW);
  const x = <usize>gi(g, P_X), am = <usize>gi(g, P_ARGMAX);
  const C4 = C & ~3;
  const accX = acc + (<usize>C << 3);
  const lanes = i32x4(0, 1, 2, 3);
  const zero = f32x4.splat(0);
  for (let q = q0; q < q1; q++) {
    const n = q / OH;
    const oh = q - n * OH;
    const row = <usize>(q * OW * C);
    for (let c = 0; c < C4; c += 4) {
      const k = <usize>c << 2;
      const mv = v128.load(mean + k), sv = v128.load(invStd + k), gv = v128.load(gamma + k), bv = v128.load(beta + k);
      let s0 = f64x2.splat(0), s1 = f64x2.splat(0), t0 = f64x2.splat(0), t1 = f64x2.splat(0);
      // src: the window's first cell (channel c) as a flat index, advanced window by window.
      let src = ((n * H + oh * KH) * W) * C + c;
      for (let ow = 0; ow < OW; ow++) {
        const e = (row + <usize>(ow * C + c)) << 2;
        const amv = v128.load(am + e);
        let h = zero;
        for (let i = 0; i < KH; i++) {
          const rowSrc = src + i * W * C;
          for (let j = 0; j < KW; j++) {
            const cell = rowSrc + j * C;
            const hc = f32x4.mul(f32x4.sub(v128.load(x + (<usize>cell << 2)), mv), sv);
            h = v128.bitselect(hc, h, i32x4.eq(amv, i32x4.add(i32x4.splat(cell), lanes)));
          }
        }
        src += KW * C;
        let d = v128.load(dy + e);
        if (relu) d = v128.and(d, f32x4.gt(f32x4.add(f32x4.mul(gv, h), bv), zero));
        const d0 = f64x2.promote_low_f32x4(d);
        const d1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(d, d, 2, 3, 0, 1));
        s0 = f64x2.add(s0, d0);
        s1 = f64x2.add(s1, d1);
        t0 = f64x2.add(t0, f64x2.mul(d0, f64x2.promote_low_f32x4(h)));
        t1 = f64x2.add(t1, f64x2.mul(d1, f64x2.promote_low_f32x4(v128.shuffle<f32>(h, h, 2, 3, 0, 1))));
      }
      const a = acc + (<usize>c << 3);
      const b = accX + (<usize>c << 3);
      v128.store(a, f64x2.add(v128.load(a), s0));
      v128.store(a, f64x2.add(v128.load(a, 16), s1), 16);
      v128.store(b, f64x2.add(v128.load(b), t0));
      v128.store(b, f64x2.add(v128.load(b, 16), t1), 16);
    }
    for (let c = C4; c < C; c++) {
      const q = <usize>c << 2;
      for (let ow = 0; ow < OW; ow++) {
        const e = row + <usize>(ow * C + c);
        const h = argmaxXHat(x, am, e, mean, invStd, q);
        if (relu && !reluPasses(h, gamma, beta, q)) continue;
        const d = <f64>load<f32>(dy + (e << 2));
        const a = acc + (<usize>c << 3);
        const b = accX + (<usize>c << 3);
        store<f64>(a, load<f64>(a) + d);
        store<f64>(b, load<f64>(b) + d * <f64>h);
      }
    }
  }
}

/**
 * dx = k·((dz − meanDz) − xHat·meanDzX) for input rows (n, ih) in [r0, r1), every cell written:
 * dz is the pooled gradient at its window's argmax cell (masked by relu', z > 0), 0 at every other
 * cell and at the rows and columns no window covers. One pass, rows split over the threads.
 */
export function bnActPoolBackwardApply(
  g: usize, r0: i32, r1: i32, dy: usize, mean: usize, invStd: usize, gamma: usize, beta: usize, relu: bool,
  k: usize, meanDz: usize, meanDzX: usize, dx: usize,
): void {
  const H = gi(g, P_H), W = gi(g, P_W), C = gi(g, P_C), OH = gi(g, P_OH), OW = gi(g, P_OW), KH = gi(g, P_KH), KW = gi(g, P_KW);
  const x = <usize>gi(g, P_X), am = <usize>gi(g, P_ARGMAX);
  const C4 = C & ~3;
  const lanes = i32x4(0, 1, 2, 3);
  const zero = f32x4.splat(0);
  const pixBytes = <usize>C << 2;
  for (let r = r0; r < r1; r++) {
    const n = r / H;
    const ih = r - n * H;
    const oh = ih / KH;
    // Columns [0, covered) lie in a window of this row's pooled row; none when no window covers the row.
    const covered = oh < OH ? OW * KW : 0;
    const pooledRow = (n * OH + oh) * OW * C;
    const rowCell = r * W * C;
    // Four channels at a time along the row, their per-channel values held in registers.
    for (let c = 0; c < C4; c += 4) {
      const q = <usize>c << 2;
      const mv = v128.load(mean + q), sv = v128.load(invStd + q), gv = v128.load(gamma + q), bv = v128.load(beta + q);
      const kv = v128.load(k + q), mdv = v128.load(meanDz + q), mxv = v128.load(meanDzX + q);
      let o = <usize>(rowCell + c) << 2;
      let p = <usize>(pooledRow + c) << 2;
      let idx = i32x4.add(i32x4.splat(rowCell + c), lanes);
      let j = 0;
      for (let iw = 0; iw < covered; iw++) {
        const h = f32x4.mul(f32x4.sub(v128.load(x + o), mv), sv);
        let m = i32x4.eq(v128.load(am + p), idx);
        if (relu) m = v128.and(m, f32x4.gt(f32x4.add(f32x4.mul(gv, h), bv), zero));
        const d = v128.and(v128.load(dy + p), m);
        v128.store(dx + o, f32x4.mul(kv, f32x4.sub(f32x4.sub(d, mdv), f32x4.mul(h, mxv))));
        o += pixBytes;
        idx = i32x4.add(idx, i32x4.splat(C));
        if (++j == KW) {
          j = 0;
          p += pixBytes;
        }
      }
      for (let iw = covered; iw < W; iw++) {
        const h = f32x4.mul(f32x4.sub(v128.load(x + o), mv), sv);
        v128.store(dx + o, f32x4.mul(kv, f32x4.sub(f32x4.sub(zero, mdv), f32x4.mul(h, mxv))));
        o += pixBytes;
      }
    }
    for (let c = C4; c < C; c++) {
      const q = <usize>c << 2;
      let pe = pooledRow + c;
      let j = 0;
      for (let iw = 0; iw < W; iw++) {
        const cell = (r * W + iw) * C + c;
        const o = <usize>cell << 2;
        const h = (load<f32>(x + o) - load<f32>(mean + q)) * load<f32>(invStd + q);
        let d: f32 = 0;
        if (iw < covered) {
          const p = <usize>pe << 2;
          if (load<i32>(am + p) == cell && (!relu || reluPasses(h, gamma, beta, q))) d = load<f32>(dy + p);
          if (++j == KW) {
            j = 0;
            pe += C;
          }
        }
        const t: f32 = (d - load<f32>(meanDz + q)) - h * load<f32>(meanDzX + q);
        store<f32>(dx + o, load<f32>(k + q) * t);
      }
    }
  }
}

/**
 * dz for a convolution whose (relu) output fed a max pool of windows that do not overlap, for the
 * pooled elements [e0, e1) (whole images, so that their argmax cells are dz [z0, z1)): zeroes dz
 * [z0, z1), then puts each dy[e] at its argmax cell, where relu only if the pooled value y[e]
 * (= that cell's output) is > 0 — the pool's and relu's backward in one pass. When db ≠ 0 it also
 * adds each value put to db[e mod F] (F f64; e0 a multiple of F): the bias gradient Σ dz from the
 * pooled quarter of the data (each cell receives at most one value).
 */
export function scatterPooledGrad(dz: usize, dy: usize, y: usize, am: usize, e0: i32, e1: i32, z0: i32, z1: i32, F: i32, relu: bool, db: usize): void {
  memory.fill(dz + (<usize>z0 << 2), 0, <usize>(z1 - z0) << 2);
  let f = 0;
  for (let e = e0; e < e1; e++) {
    const o = <usize>e << 2;
    if (!relu || load<f32>(y + o) > 0) {
      const v = load<f32>(dy + o);
      store<f32>(dz + (<usize>load<i32>(am + o) << 2), v);
      if (db != 0) {
        const a = db + (<usize>f << 3);
        store<f64>(a, load<f64>(a) + <f64>v);
      }
    }
    if (++f == F) f = 0;
  }
}

/**
 * scatterPooledGrad window by window, for windows that tile without overlap (strides = pool size,
 * no padding), geometry at g (P_H/P_W/P_C: dz's shape, P_X = dz; P_OH/P_OW: the pooled shape,
 * P_Y = the pooled output y, P_ARGMAX its argmax): writes every dz cell under pooled rows (n, ph)
 * in [q0, q1) once, four channels at a time, in order (no zeroing pass, no scattered stores): the
 * pooled gradient dy where the window's argmax is that cell (and y > 0 when relu), else 0, and 0
 * on the columns right of the last window and, with the image's last pooled row, on the rows below
 * it. db as scatterPooledGrad (≠ 0: F f64 sums, added in the same order).
 */
export function scatterPooledGradWindows(g: usize, q0: i32, q1: i32, dy: usize, relu: bool, db: usize): void {
  const H = gi(g, P_H), W = gi(g, P_W), C = gi(g, P_C), OH = gi(g, P_OH), OW = gi(g, P_OW), KH = gi(g, P_KH), KW = gi(g, P_KW);
  const dz = <usize>gi(g, P_X), y = <usize>gi(g, P_Y), am = <usize>gi(g, P_ARGMAX);
  const C4 = C & ~3;
  const lanes = i32x4(0, 1, 2, 3);
  const four = i32x4.splat(4);
  const zero = f32x4.splat(0);
  const pixBytes = <usize>C << 2;
  const rightBytes = <usize>(W - OW * KW) * pixBytes;
  for (let q = q0; q < q1; q++) {
    const n = q / OH;
    const ph = q - n * OH;
    const pRow = <usize>(q * OW) * pixBytes;
    if (db != 0) scatterRowBiasGrad(dy + pRow, y + pRow, OW, C, relu, db);
    for (let i = 0; i < KH; i++) {
      const rowCell = ((n * H + ph * KH + i) * W) * C;
      let o = dz + (<usize>rowCell << 2);
      let p = pRow;
      let cell = rowCell;
      for (let pw = 0; pw < OW; pw++) {
        for (let j = 0; j < KW; j++) {
          let idx = i32x4.add(i32x4.splat(cell), lanes);
          let c = 0;
          for (; c < C4; c += 4) {
            const k = p + (<usize>c << 2);
            let m = i32x4.eq(v128.load(am + k), idx);
            if (relu) m = v128.and(m, f32x4.gt(v128.load(y + k), zero));
            v128.store(o + (<usize>c << 2), v128.and(v128.load(dy + k), m));
            idx = i32x4.add(idx, four);
          }
          for (; c < C; c++) {
            const k = p + (<usize>c << 2);
            const hit = load<i32>(am + k) == cell + c && (!relu || load<f32>(y + k) > 0);
            store<f32>(o + (<usize>c << 2), hit ? load<f32>(dy + k) : 0);
          }
          o += pixBytes;
          cell += C;
        }
        p += pixBytes;
      }
      memory.fill(o, 0, rightBytes);
    }
    if (ph == OH - 1) {
      const below = dz + (<usize>(((n * H + OH * KH) * W) * C) << 2);
      memory.fill(below, 0, <usize>((H - OH * KH) * W) * pixBytes);
    }
  }
}

// db[c] += dy[e] for the pooled elements e of one pooled row (where y > 0 when relu), f64, in
// element order as scatterPooledGrad adds them.
function scatterRowBiasGrad(dy: usize, y: usize, OW: i32, C: i32, relu: bool, db: usize): void {
  const C4 = C & ~3;
  const zero = f32x4.splat(0);
  for (let pw = 0; pw < OW; pw++) {
    let c = 0;
    for (; c < C4; c += 4) {
      const k = <usize>c << 2;
      let d = v128.load(dy + k);
      if (relu) d = v128.and(d, f32x4.gt(v128.load(y + k), zero));
      const a = db + (<usize>c << 3);
      v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(d)));
      v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(d, d, 2, 3, 0, 1))), 16);
    }
    for (; c < C; c++) {
      const k = <usize>c << 2;
      if (relu && !(load<f32>(y + k) > 0)) continue;
      const a = db + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(dy + k));
    }
    dy += <usize>C << 2;
    y += <usize>C << 2;
  }
}
