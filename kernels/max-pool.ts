// y[n,oh,ow,c]      = max_{i,j} x[n, oh·sh−pt+i, ow·sw−pl+j, c]   over cells inside the image
// argmax[n,oh,ow,c] = flat index in x of the first cell (window order) holding that max
// maxPool returns both in one array of 2·S: [y | argmax], S = N·OH·OW·C (one readback, x read once).
// NaN as the CPU reference: the first NaN in window order wins, its value and its index
// (!(v === v) is the NaN test: gpu.js's GLSL and WGSL have no isnan; WebGPU (Dawn's shader compiler on
// lavapipe) folds v != v to false but keeps !(v == v), and Mesa llvmpipe's GLSL keeps both).
// dx[n,ih,iw,c]     = Σ_{oh,ow : argmax[n,oh,ow,c] = flat(n,ih,iw,c)} dy[n,oh,ow,c]   (gather form of the scatter)

/** Window geometry constants (pooling keeps channels: F = C). */
export interface PoolConstants {
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
  /** Outputs per half of maxPool's result: N·OH·OW·C (unused by maxPoolBackprop). */
  S: number;
}

export function maxPool(this: GpuKernelThis<PoolConstants>, x: Float32Array): number {
  let t = this.thread.x;
  let half = 0;
  if (t >= this.constants.S) {
    t = t - this.constants.S;
    half = 1;
  }
  const p = Math.floor(t / this.constants.C);
  const c = t - p * this.constants.C;
  const q = Math.floor(p / this.constants.OW);
  const ow = p - q * this.constants.OW;
  const n = Math.floor(q / this.constants.OH);
  const oh = q - n * this.constants.OH;
  let best = 0;
  let at = -1;
  for (let i = 0; i < this.constants.KH; i++) {
    const ih = oh * this.constants.sh - this.constants.pt + i;
    if (ih >= 0 && ih < this.constants.H) {
      for (let j = 0; j < this.constants.KW; j++) {
        const iw = ow * this.constants.sw - this.constants.pl + j;
        if (iw >= 0 && iw < this.constants.W) {
          const k = ((n * this.constants.H + ih) * this.constants.W + iw) * this.constants.C + c;
          const v = x[k];
          if (at < 0 || v > best || (!(v === v) && best === best)) {
            best = v;
            at = k;
          }
        }
      }
    }
  }
  if (half === 1) return at;
  return best;
}

export function maxPoolBackprop(this: GpuKernelThis<PoolConstants>, dy: Float32Array, argmax: Float32Array): number {
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
      for (let j = 0; j < this.constants.KW; j++) {
        const rw = iw + this.constants.pl - j;
        const ow = Math.floor(rw / this.constants.sw);
        if (rw >= 0 && ow * this.constants.sw === rw && ow < this.constants.OW) {
          const o = ((n * this.constants.OH + oh) * this.constants.OW + ow) * this.constants.C + c;
          if (argmax[o] === t) {
            sum += dy[o];
          }
        }
      }
    }
  }
  return sum;
}
