// Element-wise activations y = f(x) and their gradients dx = f'(x) · dy; `kind` selects f (codes in the
// backend's ACTIVATION_CODES), h[0] = α (leakyRelu, elu):
//  0 linear x | 1 relu max(x,0) | 2 relu6 min(max(x,0),6) | 3 sigmoid 1/(1+e^−x) | 4 tanh
//  5 leakyRelu x>0 ? x : αx | 6 elu x>0 ? x : α(eˣ−1) | 7 selu λ(x>0 ? x : a(eˣ−1)), λ=1.0507009873554805, a=1.6732632423543772
//  8 softplus max(x,0)+log(1+e^−|x|) | 9 softsign x/(1+|x|) | 10 swish x/(1+e^−x) | 11 hardSigmoid min(max(0.2x+0.5,0),1)
// softmax over the last axis of length C: y[r,c] = e^(x[r,c]−max_r) / Σ_k e^(x[r,k]−max_r);  dx[r,c] = y[r,c] · (dy[r,c] − Σ_k dy[r,k]·y[r,k])

export interface ActivationConstants {
  kind: number;
}

export interface SoftmaxConstants {
  C: number;
}

export function activationForward(this: GpuKernelThis<ActivationConstants>, x: Float32Array, h: Float32Array): number {
  const v = x[this.thread.x];
  const k = this.constants.kind;
  if (k === 1) return Math.max(v, 0);
  if (k === 2) return Math.min(Math.max(v, 0), 6);
  if (k === 3) return 1 / (1 + Math.exp(-v));
  if (k === 4) {
    const e = Math.exp(-2 * Math.abs(v));
    const m = (1 - e) / (1 + e);
    if (v < 0) return -m;
    return m;
  }
  if (k === 5) {
    if (v > 0) return v;
    return h[0] * v;
  }
  if (k === 6) {
    if (v > 0) return v;
    return h[0] * (Math.exp(v) - 1);
  }
  if (k === 7) {
    if (v > 0) return 1.0507009873554805 * v;
    return 1.0507009873554805 * 1.6732632423543772 * (Math.exp(v) - 1);
  }
  if (k === 8) return Math.max(v, 0) + Math.log(1 + Math.exp(-Math.abs(v)));
  if (k === 9) return v / (1 + Math.abs(v));
  if (k === 10) return v / (1 + Math.exp(-v));
  if (k === 11) return Math.min(Math.max(0.2 * v + 0.5, 0), 1);
  return v;
}

export function activationBackward(this: GpuKernelThis<ActivationConstants>, dy: Float32Array, x: Float32Array, y: Float32Array, h: Float32Array): number {
  const t = this.thread.x;
  const g = dy[t];
  const v = x[t];
  const u = y[t];
  const k = this.constants.kind;
  if (k === 1) {
    if (v > 0) return g;
    return 0;
  }
  if (k === 2) {
    if (v > 0 && v < 6) return g;
    return 0;
  }
  if (k === 3) return g * u * (1 - u);
  if (k === 4) return g * (1 - u * u);
  if (k === 5) {
    if (v > 0) return g;
    return h[0] * g;
  }
  if (k === 6) {
    if (v > 0) return g;
    return g * (u + h[0]);
  }
  if (k === 7) {
    if (v > 0) return 1.0507009873554805 * g;
    return g * (u + 1.0507009873554805 * 1.6732632423543772);
  }
  if (k === 8) return g / (1 + Math.exp(-v));
  if (k === 9) {
    const d = 1 + Math.abs(v);
    return g / (d * d);
  }
  if (k === 10) {
    const s = 1 / (1 + Math.exp(-v));
    return g * (s + v * s * (1 - s));
  }
  if (k === 11) {
    if (v > -2.5 && v < 2.5) return 0.2 * g;
    return 0;
  }
  return g;
}

export function softmaxForward(this: GpuKernelThis<SoftmaxConstants>, x: Float32Array): number {
  const t = this.thread.x;
  const base = Math.floor(t / this.constants.C) * this.constants.C;
  let top = x[base];
  for (let c = 1; c < this.constants.C; c++) {
    top = Math.max(top, x[base + c]);
  }
  let sum = 0;
  for (let c = 0; c < this.constants.C; c++) {
    sum += Math.exp(x[base + c] - top);
  }
  return Math.exp(x[t] - top) / sum;
}

export function softmaxBackward(this: GpuKernelThis<SoftmaxConstants>, dy: Float32Array, y: Float32Array): number {
  const t = this.thread.x;
  const base = Math.floor(t / this.constants.C) * this.constants.C;
  let dot = 0;
  for (let c = 0; c < this.constants.C; c++) {
    dot += dy[base + c] * y[base + c];
  }
  return y[t] * (dy[t] - dot);
}
