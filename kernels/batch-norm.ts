// Batch normalization over a flat [rows, C] array, statistics per channel c:
// mean[c]     = Σ_r x[r,c] / rows
// variance[c] = Σ_r (x[r,c] − mean[c])² / rows                       (biased, two-pass)
// invStd[c]   = 1 / √(variance[c] + ε)                               (h[0] = ε)
// x̂[r,c]      = (x[r,c] − mean[c]) · invStd[c];   y[r,c] = γ[c] · x̂[r,c] + β[c]
// inference:  y[r,c] = x[r,c] · s[c] + (β[c] − μ[c] · s[c]),  s[c] = γ[c] / √(σ²[c] + ε)
// backward:   dx[r,c] = γ[c] · invStd[c] · (dy[r,c] − Σdy[c]/rows − x̂[r,c] · Σ(dy·x̂)[c]/rows)

export interface BatchNormConstants {
  C: number;
  rows: number;
}

export function channelMean(this: GpuKernelThis<BatchNormConstants>, x: Float32Array): number {
  const c = this.thread.x;
  let sum = 0;
  for (let r = 0; r < this.constants.rows; r++) {
    sum += x[r * this.constants.C + c];
  }
  return sum / this.constants.rows;
}

export function channelVariance(this: GpuKernelThis<BatchNormConstants>, x: Float32Array, mean: Float32Array): number {
  const c = this.thread.x;
  let sum = 0;
  for (let r = 0; r < this.constants.rows; r++) {
    const d = x[r * this.constants.C + c] - mean[c];
    sum += d * d;
  }
  return sum / this.constants.rows;
}

export function inverseStd(this: GpuKernelThis<BatchNormConstants>, variance: Float32Array, h: Float32Array): number {
  return 1 / Math.sqrt(variance[this.thread.x] + h[0]);
}

export function normalize(this: GpuKernelThis<BatchNormConstants>, x: Float32Array, mean: Float32Array, invStd: Float32Array): number {
  const t = this.thread.x;
  const c = t - Math.floor(t / this.constants.C) * this.constants.C;
  return (x[t] - mean[c]) * invStd[c];
}

export function scaleShift(this: GpuKernelThis<BatchNormConstants>, xHat: Float32Array, gamma: Float32Array, beta: Float32Array): number {
  const t = this.thread.x;
  const c = t - Math.floor(t / this.constants.C) * this.constants.C;
  return gamma[c] * xHat[t] + beta[c];
}

export function batchNormInference(
  this: GpuKernelThis<BatchNormConstants>,
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  h: Float32Array,
): number {
  const t = this.thread.x;
  const c = t - Math.floor(t / this.constants.C) * this.constants.C;
  const s = gamma[c] / Math.sqrt(variance[c] + h[0]);
  return x[t] * s + (beta[c] - mean[c] * s);
}

export function batchNormBackwardDx(
  this: GpuKernelThis<BatchNormConstants>,
  dy: Float32Array,
  xHat: Float32Array,
  gamma: Float32Array,
  invStd: Float32Array,
  sumDy: Float32Array,
  sumDyX: Float32Array,
): number {
  const t = this.thread.x;
  const c = t - Math.floor(t / this.constants.C) * this.constants.C;
  return gamma[c] * invStd[c] * (dy[t] - sumDy[c] / this.constants.rows - xHat[t] * (sumDyX[c] / this.constants.rows));
}
