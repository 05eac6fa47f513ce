// y[n,oh,ow,c·M+m] = Σ_{i,j} x[n, oh·sh−pt+i·dh, ow·sw−pl+j·dw, c] · w[i,j,c,m]          (x is zero outside the image)
// dx[n,ih,iw,c]    = Σ_{i,j,m} dy[n,oh,ow,c·M+m] · w[i,j,c,m]  over oh·sh = ih+pt−i·dh, ow·sw = iw+pl−j·dw
// dw[i,j,c,m]      = Σ_{n,oh,ow} x[n, oh·sh−pt+i·dh, ow·sw−pl+j·dw, c] · dy[n,oh,ow,c·M+m]
// F = C·M output channels; one thread per output element.

/** Geometry constants of the depthwise kernels: the conv kernels' fields plus the multiplier M. */
export interface DepthwiseConstants {
  N: number;
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  F: number;
  M: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
}

export function depthwiseConv2dForward(this: GpuKernelThis<DepthwiseConstants>, x: Float32Array, w: Float32Array): number {
  const t = this.thread.x;
  const p = Math.floor(t / this.constants.F);
  const f = t - p * this.constants.F;
  const c = Math.floor(f / this.constants.M);
  const q = Math.floor(p / this.constants.OW);
  const ow = p - q * this.constants.OW;
  const n = Math.floor(q / this.constants.OH);
  const oh = q - n * this.constants.OH;
  let sum = 0;
  for (let i = 0; i < this.constants.KH; i++) {
    const ih = oh * this.constants.sh - this.constants.pt + i * this.constants.dh;
    if (ih >= 0 && ih < this.constants.H) {
      for (let j = 0; j < this.constants.KW; j++) {
        const iw = ow * this.constants.sw - this.constants.pl + j * this.constants.dw;
        if (iw >= 0 && iw < this.constants.W) {
          sum += x[((n * this.constants.H + ih) * this.constants.W + iw) * this.constants.C + c] * w[(i * this.constants.KW + j) * this.constants.F + f];
        }
      }
    }
  }
  return sum;
}

export function depthwiseConv2dBackpropInput(this: GpuKernelThis<DepthwiseConstants>, dy: Float32Array, w: Float32Array): number {
  const t = this.thread.x;
  const p = Math.floor(t / this.constants.C);
  const c = t - p * this.constants.C;
  const q = Math.floor(p / this.constants.W);
  const iw = p - q * this.constants.W;
  const n = Math.floor(q / this.constants.H);
  const ih = q - n * this.constants.H;
  let sum = 0;
  for (let i = 0; i < this.constants.KH; i++) {
    const rh = ih + this.constants.pt - i * this.constants.dh;
    const oh = Math.floor(rh / this.constants.sh);
    if (rh >= 0 && oh * this.constants.sh === rh && oh < this.constants.OH) {
      for (let j = 0; j < this.constants.KW; j++) {
        const rw = iw + this.constants.pl - j * this.constants.dw;
        const ow = Math.floor(rw / this.constants.sw);
        if (rw >= 0 && ow * this.constants.sw === rw && ow < this.constants.OW) {
          const yb = ((n * this.constants.OH + oh) * this.constants.OW + ow) * this.constants.F + c * this.constants.M;
          const wb = (i * this.constants.KW + j) * this.constants.F + c * this.constants.M;
          for (let m = 0; m < this.constants.M; m++) {
            sum += dy[yb + m] * w[wb + m];
          }
        }
      }
    }
  }
  return sum;
}

export function depthwiseConv2dBackpropFilter(this: GpuKernelThis<DepthwiseConstants>, x: Float32Array, dy: Float32Array): number {
  const t = this.thread.x;
  const q = Math.floor(t / this.constants.F);
  const f = t - q * this.constants.F;
  const c = Math.floor(f / this.constants.M);
  const i = Math.floor(q / this.constants.KW);
  const j = q - i * this.constants.KW;
  let sum = 0;
  for (let n = 0; n < this.constants.N; n++) {
    for (let oh = 0; oh < this.constants.OH; oh++) {
      const ih = oh * this.constants.sh - this.constants.pt + i * this.constants.dh;
      if (ih >= 0 && ih < this.constants.H) {
        for (let ow = 0; ow < this.constants.OW; ow++) {
          const iw = ow * this.constants.sw - this.constants.pl + j * this.constants.dw;
          if (iw >= 0 && iw < this.constants.W) {
            sum +=
              x[((n * this.constants.H + ih) * this.constants.W + iw) * this.constants.C + c] *
              dy[((n * this.constants.OH + oh) * this.constants.OW + ow) * this.constants.F + f];
          }
        }
      }
    }
  }
  return sum;
}
