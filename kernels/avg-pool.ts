// y[n,oh,ow,c]  = (1/cnt(oh,ow)) · Σ_{i,j} x[n, oh·sh−pt+i, ow·sw−pl+j, c]   over cells inside the image
// dx[n,ih,iw,c] = Σ_{oh,ow : (ih,iw) in window(oh,ow)} dy[n,oh,ow,c] / cnt(oh,ow)
// cnt(oh,ow) = the window's cells inside the image (padding not counted, as TensorFlow).

/** Window geometry constants (pooling keeps channels); the same fields as max-pool's PoolConstants but S. */
export interface AvgPoolConstants {
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
}

export function avgPool(this: GpuKernelThis<AvgPoolConstants>, x: Float32Array): number {
  const t = this.thread.x;
  const p = Math.floor(t / this.constants.C);
  const c = t - p * this.constants.C;
  const q = Math.floor(p / this.constants.OW);
  const ow = p - q * this.constants.OW;
  const n = Math.floor(q / this.constants.OH);
  const oh = q - n * this.constants.OH;
  let sum = 0;
  let cnt = 0;
  for (let i = 0; i < this.constants.KH; i++) {
    const ih = oh * this.constants.sh - this.constants.pt + i;
    if (ih >= 0 && ih < this.constants.H) {
      for (let j = 0; j < this.constants.KW; j++) {
        const iw = ow * this.constants.sw - this.constants.pl + j;
        if (iw >= 0 && iw < this.constants.W) {
          sum += x[((n * this.constants.H + ih) * this.constants.W + iw) * this.constants.C + c];
          cnt += 1;
        }
      }
    }
  }
  return sum / cnt;
}

export function avgPoolBackprop(this: GpuKernelThis<AvgPoolConstants>, dy: Float32Array): number {
  const t = this.thread.x;
  const p = Math.floor(t / this.constants.C);
  const c = t - p * this.constants.C;
  const q = Math.floor(p / this.constants.W);
  const iw = p - q * this.constants.W;
  const n = Math.floor(q / this.constants.H);
  const ih = q - n * this.constants.H;
  let sum = 0;
  for (let i = 0; i < this.constants.KH; i++) {
    const rh = ih + this.constants.pt - i;
    const oh = Math.floor(rh / this.constants.sh);
    if (rh >= 0 && oh * this.constants.sh === rh && oh < this.constants.OH) {
      const h0 = oh * this.constants.sh - this.constants.pt;
      const rows = Math.min(h0 + this.constants.KH, this.constants.H) - Math.max(h0, 0);
      for (let j = 0; j < this.constants.KW; j++) {
        const rw = iw + this.constants.pl - j;
        const ow = Math.floor(rw / this.constants.sw);
        if (rw >= 0 && ow * this.constants.sw === rw && ow < this.constants.OW) {
          const w0 = ow * this.constants.sw - this.constants.pl;
          const cols = Math.min(w0 + this.constants.KW, this.constants.W) - Math.max(w0, 0);
          sum += dy[((n * this.constants.OH + oh) * this.constants.OW + ow) * this.constants.C + c] / (rows * cols);
        }
      }
    }
  }
  return sum;
}
