// zeroPad2d:          y[n,oh,ow,c] = x[n, oh−top, ow−left, c] inside the image, 0 in the padding
// zeroPad2dBackprop:  dx[n,ih,iw,c] = dy[n, ih+top, iw+left, c]
// reluWithOptions:    y = x > θ ? min(x, max) : s·(x − θ)          h = [max, s, θ]; no cap when hasMax is 0
// reluWithOptionsBackward: dx = θ < x < max ? dy : (x < θ ? s·dy : 0)

/** Padding geometry (the fields of Pad2DInfo, abbreviated). */
export interface PadConstants {
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  top: number;
  left: number;
}

/** Whether the relu has a cap (maxValue): the cap itself travels in h[0]. */
export interface ReluOptionsConstants {
  hasMax: number;
}

export function zeroPad2d(this: GpuKernelThis<PadConstants>, x: Float32Array): number {
  const t = this.thread.x;
  const p = Math.floor(t / this.constants.C);
  const c = t - p * this.constants.C;
  const q = Math.floor(p / this.constants.OW);
  const ow = p - q * this.constants.OW;
  const n = Math.floor(q / this.constants.OH);
  const oh = q - n * this.constants.OH;
  const ih = oh - this.constants.top;
  const iw = ow - this.constants.left;
  if (ih >= 0 && ih < this.constants.H && iw >= 0 && iw < this.constants.W) {
    return x[((n * this.constants.H + ih) * this.constants.W + iw) * this.constants.C + c];
  }
  return 0;
}

export function zeroPad2dBackprop(this: GpuKernelThis<PadConstants>, dy: Float32Array): number {
  const t = this.thread.x;
  const p = Math.floor(t / this.constants.C);
  const c = t - p * this.constants.C;
  const q = Math.floor(p / this.constants.W);
  const iw = p - q * this.constants.W;
  const n = Math.floor(q / this.constants.H);
  const ih = q - n * this.constants.H;
  return dy[((n * this.constants.OH + ih + this.constants.top) * this.constants.OW + iw + this.constants.left) * this.constants.C + c];
}

export function reluWithOptions(this: GpuKernelThis<ReluOptionsConstants>, x: Float32Array, h: Float32Array): number {
  const v = x[this.thread.x];
  if (v > h[2]) {
    if (this.constants.hasMax === 1 && v > h[0]) return h[0];
    return v;
  }
  return h[1] * (v - h[2]);
}

export function reluWithOptionsBackward(this: GpuKernelThis<ReluOptionsConstants>, dy: Float32Array, x: Float32Array, h: Float32Array): number {
  const t = this.thread.x;
  const v = x[t];
  if (v > h[2]) {
    if (this.constants.hasMax === 1 && v >= h[0]) return 0;
    return dy[t];
  }
  if (v < h[2]) return h[1] * dy[t];
  return 0;
}
