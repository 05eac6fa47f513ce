// Element-wise products and optimizer updates, one thread per output; per-step scalars come in h
// (arrays, not constants, so a changing learning rate does not recompile the kernel). An update that
// changes several arrays returns them packed in one array (one readback), n = parameter count:
// multiply:     y = a · b
// combine:      y = h[0]·a + h[1]·b     (gradient accumulation, moving averages on the device)
// sgd:          w' = w − lr·g                                              h = [lr]
// sgdMomentum:  [v' | w'],  v' = μ·v − lr·g,  w' = w + (nesterov ? μ·v' − lr·g : v')     h = [lr, μ]
// adam:         [m' | v' | w'],  m' = m + (g − m)(1 − β1),  v' = v + (g² − v)(1 − β2),
//               w' = w − α·m' / (√v' + ε)                       h = [β1, β2, α, ε], α = lr·√(1−β2ᵗ)/(1−β1ᵗ)
// rmsprop:      [s' | w'],  s' = ρ·s + (1 − ρ)·g²,  w' = w − lr·g / √(s' + ε)             h = [ρ, lr, ε]
//               (Keras 3: ε inside the root)

export interface UpdateConstants {
  nesterov: number;
  /** Parameter count (the length of each packed part). */
  n: number;
}

export function multiply(this: GpuKernelThis<UpdateConstants>, a: Float32Array, b: Float32Array): number {
  return a[this.thread.x] * b[this.thread.x];
}

export function combine(this: GpuKernelThis<UpdateConstants>, a: Float32Array, b: Float32Array, h: Float32Array): number {
  return h[0] * a[this.thread.x] + h[1] * b[this.thread.x];
}

export function sgd(this: GpuKernelThis<UpdateConstants>, w: Float32Array, g: Float32Array, h: Float32Array): number {
  return w[this.thread.x] - h[0] * g[this.thread.x];
}

export function sgdMomentum(this: GpuKernelThis<UpdateConstants>, w: Float32Array, g: Float32Array, v: Float32Array, h: Float32Array): number {
  let t = this.thread.x;
  let part = 0;
  if (t >= this.constants.n) {
    t = t - this.constants.n;
    part = 1;
  }
  const vNew = h[1] * v[t] - h[0] * g[t];
  if (part === 0) return vNew;
  if (this.constants.nesterov === 1) return w[t] + (h[1] * vNew - h[0] * g[t]);
  return w[t] + vNew;
}

export function adam(this: GpuKernelThis<UpdateConstants>, w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: Float32Array): number {
  let t = this.thread.x;
  let part = 0;
  if (t >= this.constants.n) {
    t = t - this.constants.n;
    part = 1;
  }
  if (t >= this.constants.n) {
    t = t - this.constants.n;
    part = 2;
  }
  const mNew = m[t] + (g[t] - m[t]) * (1 - h[0]);
  if (part === 0) return mNew;
  const vNew = v[t] + (g[t] * g[t] - v[t]) * (1 - h[1]);
  if (part === 1) return vNew;
  return w[t] - (h[2] * mNew) / (Math.sqrt(vNew) + h[3]);
}

export function rmsprop(this: GpuKernelThis<UpdateConstants>, w: Float32Array, g: Float32Array, s: Float32Array, h: Float32Array): number {
  let t = this.thread.x;
  let part = 0;
  if (t >= this.constants.n) {
    t = t - this.constants.n;
    part = 1;
  }
  const sNew = h[0] * s[t] + (1 - h[0]) * g[t] * g[t];
  if (part === 0) return sNew;
  return w[t] - (h[1] * g[t]) / Math.sqrt(sNew + h[2]);
}
