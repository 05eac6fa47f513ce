// The augmentation ops (src/backend/types.ts ImageTransformInfo, ContrastInfo), one thread per output:
// imageTransform:         y[n,i,j,c] = Σ_k w_k · (x[n, r_k, c_k, c] inside the image, else fill)
//                         (r_k, c_k, w_k): the bilinear cells around (map(sy, H), map(sx, W)), or the one nearest cell;
//                         sx = t0·j + t1·i + t2, sy = t3·j + t4·i + t5, t = tr[n·6 .. n·6+5]; map: TensorFlow's fill modes
// imageTransformBackward: dx[n,r,q,c] = Σ_{i,j} w(i,j → r,q) · dy[n,i,j,c]    (every output pixel of the image visited)
// imageChannelMean:       m[n,c] = Σ_p x[n,p,c] / P                        (P = H·W pixels)
// contrast:               y = clip((x − m)·f[n] + m, h0, h1)
// contrastMaskedSum:      s[n,c] = Σ_p g[n,p,c],  g = dy where h0 ≤ (x − m)·f[n] + m ≤ h1, else 0
// contrastBackward:       dx = f[n]·g + (1 − f[n])·s[n,c] / P
// mode: 0 constant, 1 reflect, 2 wrap, 3 nearest; bilinear: 1 bilinear, 0 nearest.

export interface TransformConstants {
  H: number;
  W: number;
  C: number;
  mode: number;
  bilinear: number;
  fill: number;
}

export interface ContrastConstants {
  P: number;
  C: number;
}

export function imageTransform(this: GpuKernelThis<TransformConstants>, x: Float32Array, tr: Float32Array): number {
  const t = this.thread.x;
  const p = Math.floor(t / this.constants.C);
  const c = t - p * this.constants.C;
  const q = Math.floor(p / this.constants.W);
  const j = p - q * this.constants.W;
  const n = Math.floor(q / this.constants.H);
  const i = q - n * this.constants.H;
  let sx = tr[n * 6] * j + tr[n * 6 + 1] * i + tr[n * 6 + 2];
  let sy = tr[n * 6 + 3] * j + tr[n * 6 + 4] * i + tr[n * 6 + 5];
  for (let a = 0; a < 2; a++) {
    let v = sx;
    let len = this.constants.W;
    if (a === 1) {
      v = sy;
      len = this.constants.H;
    }
    if (this.constants.mode === 1) {
      if (v < 0) {
        if (len <= 1) v = 0;
        else {
          v = 2 * len * Math.floor(-v / (2 * len)) + v;
          if (v < -len) v = v + 2 * len;
          else v = -v - 1;
        }
      } else if (v > len - 1) {
        if (len <= 1) v = 0;
        else {
          v = v - 2 * len * Math.floor(v / (2 * len));
          if (v >= len) v = 2 * len - v - 1;
        }
      }
    }
    if (this.constants.mode === 2) {
      if (v < 0) {
        if (len <= 1) v = 0;
        else v = v + len * (Math.floor(-v / (len - 1)) + 1);
      } else if (v > len - 1) {
        if (len <= 1) v = 0;
        else v = v - len * Math.floor(v / (len - 1));
      }
    }
    if (this.constants.mode !== 0) v = Math.min(Math.max(v, 0), len - 1);
    if (a === 0) sx = v;
    else sy = v;
  }
  let sum = 0;
  if (this.constants.bilinear === 1) {
    const y0 = Math.floor(sy);
    const x0 = Math.floor(sx);
    for (let k = 0; k < 4; k++) {
      const dr = Math.floor(k / 2);
      const dc = k - 2 * dr;
      const r = y0 + dr;
      const col = x0 + dc;
      let wgt = y0 + 1 - sy;
      if (dr === 1) wgt = sy - y0;
      if (dc === 1) wgt = wgt * (sx - x0);
      else wgt = wgt * (x0 + 1 - sx);
      if (r >= 0 && r < this.constants.H && col >= 0 && col < this.constants.W) {
        sum += wgt * x[((n * this.constants.H + r) * this.constants.W + col) * this.constants.C + c];
      } else sum += wgt * this.constants.fill;
    }
    return sum;
  }
  let r = Math.floor(sy + 0.5);
  if (sy < 0) r = -Math.floor(-sy + 0.5);
  let col = Math.floor(sx + 0.5);
  if (sx < 0) col = -Math.floor(-sx + 0.5);
  if (r >= 0 && r < this.constants.H && col >= 0 && col < this.constants.W) {
    return x[((n * this.constants.H + r) * this.constants.W + col) * this.constants.C + c];
  }
  return this.constants.fill;
}

export function imageTransformBackward(this: GpuKernelThis<TransformConstants>, dy: Float32Array, tr: Float32Array): number {
  const t = this.thread.x;
  const p = Math.floor(t / this.constants.C);
  const c = t - p * this.constants.C;
  const q = Math.floor(p / this.constants.W);
  const col = p - q * this.constants.W;
  const n = Math.floor(q / this.constants.H);
  const r = q - n * this.constants.H;
  let sum = 0;
  for (let i = 0; i < this.constants.H; i++) {
    for (let j = 0; j < this.constants.W; j++) {
      let sx = tr[n * 6] * j + tr[n * 6 + 1] * i + tr[n * 6 + 2];
      let sy = tr[n * 6 + 3] * j + tr[n * 6 + 4] * i + tr[n * 6 + 5];
      for (let a = 0; a < 2; a++) {
        let v = sx;
        let len = this.constants.W;
        if (a === 1) {
          v = sy;
          len = this.constants.H;
        }
        if (this.constants.mode === 1) {
          if (v < 0) {
            if (len <= 1) v = 0;
            else {
              v = 2 * len * Math.floor(-v / (2 * len)) + v;
              if (v < -len) v = v + 2 * len;
              else v = -v - 1;
            }
          } else if (v > len - 1) {
            if (len <= 1) v = 0;
            else {
              v = v - 2 * len * Math.floor(v / (2 * len));
              if (v >= len) v = 2 * len - v - 1;
            }
          }
        }
        if (this.constants.mode === 2) {
          if (v < 0) {
            if (len <= 1) v = 0;
            else v = v + len * (Math.floor(-v / (len - 1)) + 1);
          } else if (v > len - 1) {
            if (len <= 1) v = 0;
            else v = v - len * Math.floor(v / (len - 1));
          }
        }
        if (this.constants.mode !== 0) v = Math.min(Math.max(v, 0), len - 1);
        if (a === 0) sx = v;
        else sy = v;
      }
      const g = dy[((n * this.constants.H + i) * this.constants.W + j) * this.constants.C + c];
      if (this.constants.bilinear === 1) {
        const y0 = Math.floor(sy);
        const x0 = Math.floor(sx);
        const dr = r - y0;
        const dc = col - x0;
        if (dr >= 0 && dr <= 1 && dc >= 0 && dc <= 1) {
          let wgt = y0 + 1 - sy;
          if (dr === 1) wgt = sy - y0;
          if (dc === 1) wgt = wgt * (sx - x0);
          else wgt = wgt * (x0 + 1 - sx);
          sum += wgt * g;
        }
      } else {
        let rr = Math.floor(sy + 0.5);
        if (sy < 0) rr = -Math.floor(-sy + 0.5);
        let cc = Math.floor(sx + 0.5);
        if (sx < 0) cc = -Math.floor(-sx + 0.5);
        if (rr === r && cc === col) sum += g;
      }
    }
  }
  return sum;
}

export function imageChannelMean(this: GpuKernelThis<ContrastConstants>, x: Float32Array): number {
  const t = this.thread.x;
  const n = Math.floor(t / this.constants.C);
  const c = t - n * this.constants.C;
  let sum = 0;
  for (let p = 0; p < this.constants.P; p++) sum += x[(n * this.constants.P + p) * this.constants.C + c];
  return sum / this.constants.P;
}

export function contrast(this: GpuKernelThis<ContrastConstants>, x: Float32Array, m: Float32Array, f: Float32Array, h: Float32Array): number {
  const t = this.thread.x;
  const p = Math.floor(t / this.constants.C);
  const c = t - p * this.constants.C;
  const n = Math.floor(p / this.constants.P);
  const mean = m[n * this.constants.C + c];
  return Math.min(Math.max((x[t] - mean) * f[n] + mean, h[0]), h[1]);
}

export function contrastMaskedSum(this: GpuKernelThis<ContrastConstants>, dy: Float32Array, x: Float32Array, m: Float32Array, f: Float32Array, h: Float32Array): number {
  const t = this.thread.x;
  const n = Math.floor(t / this.constants.C);
  const c = t - n * this.constants.C;
  const mean = m[t];
  let sum = 0;
  for (let p = 0; p < this.constants.P; p++) {
    const k = (n * this.constants.P + p) * this.constants.C + c;
    const z = (x[k] - mean) * f[n] + mean;
    if (z >= h[0] && z <= h[1]) sum += dy[k];
  }
  return sum;
}

export function contrastBackward(
  this: GpuKernelThis<ContrastConstants>, dy: Float32Array, x: Float32Array, m: Float32Array, f: Float32Array, s: Float32Array, h: Float32Array,
): number {
  const t = this.thread.x;
  const p = Math.floor(t / this.constants.C);
  const c = t - p * this.constants.C;
  const n = Math.floor(p / this.constants.P);
  const mean = m[n * this.constants.C + c];
  const z = (x[t] - mean) * f[n] + mean;
  let g = 0;
  if (z >= h[0] && z <= h[1]) g = dy[t];
  return f[n] * g + ((1 - f[n]) * s[n * this.constants.C + c]) / this.constants.P;
}
