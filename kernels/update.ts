// Element-wise products and optimizer updates, one thread per parameter; per-step scalars come in h
// (arrays, not constants, so a changing learning rate does not recompile the kernel):
// multiply:        y = a · b
// sgd:             w' = w − lr·g                                         h = [lr]
// sgdVelocity:     v' = μ·v − lr·g                                       h = [lr, μ]
// sgdMomentum:     w' = w + (nesterov ? μ·v' − lr·g : v')                h = [lr, μ]
// adamM / adamV:   m' = m + (g − m)(1 − β1);  v' = v + (g² − v)(1 − β2)  h = [β1] / [β2]
// adamValue:       w' = w − α·m' / (√v' + ε)                             h = [α, ε], α = lr·√(1−β2ᵗ)/(1−β1ᵗ)
// rmspropMs:       s' = ρ·s + (1 − ρ)·g²                                 h = [ρ]
// rmspropValue:    w' = w − lr·g / √(s' + ε)                             h = [lr, ε]  (Keras 3: ε inside the root)

export interface UpdateConstants {
  nesterov: number;
}

export function multiply(this: GpuKernelThis<UpdateConstants>, a: Float32Array, b: Float32Array): number {
  return a[this.thread.x] * b[this.thread.x];
}

export function sgd(this: GpuKernelThis<UpdateConstants>, w: Float32Array, g: Float32Array, h: Float32Array): number {
  return w[this.thread.x] - h[0] * g[this.thread.x];
}

export function sgdVelocity(this: GpuKernelThis<UpdateConstants>, v: Float32Array, g: Float32Array, h: Float32Array): number {
  return h[1] * v[this.thread.x] - h[0] * g[this.thread.x];
}

export function sgdMomentum(this: GpuKernelThis<UpdateConstants>, w: Float32Array, g: Float32Array, vNew: Float32Array, h: Float32Array): number {
  const t = this.thread.x;
  if (this.constants.nesterov === 1) return w[t] + (h[1] * vNew[t] - h[0] * g[t]);
  return w[t] + vNew[t];
}

export function adamM(this: GpuKernelThis<UpdateConstants>, m: Float32Array, g: Float32Array, h: Float32Array): number {
  const t = this.thread.x;
  return m[t] + (g[t] - m[t]) * (1 - h[0]);
}

export function adamV(this: GpuKernelThis<UpdateConstants>, v: Float32Array, g: Float32Array, h: Float32Array): number {
  const t = this.thread.x;
  return v[t] + (g[t] * g[t] - v[t]) * (1 - h[0]);
}

export function adamValue(this: GpuKernelThis<UpdateConstants>, w: Float32Array, m: Float32Array, v: Float32Array, h: Float32Array): number {
  const t = this.thread.x;
  return w[t] - (h[0] * m[t]) / (Math.sqrt(v[t]) + h[1]);
}

export function rmspropMs(this: GpuKernelThis<UpdateConstants>, s: Float32Array, g: Float32Array, h: Float32Array): number {
  const t = this.thread.x;
  return h[0] * s[t] + (1 - h[0]) * g[t] * g[t];
}

export function rmspropValue(this: GpuKernelThis<UpdateConstants>, w: Float32Array, g: Float32Array, s: Float32Array, h: Float32Array): number {
  const t = this.thread.x;
  return w[t] - (h[0] * g[t]) / Math.sqrt(s[t] + h[1]);
}
