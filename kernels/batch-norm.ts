// Batch normalization over a flat [rows, C] array, statistics per channel c:
// mean[c]     = Σ_r x[r,c] / rows
// variance[c] = Σ_r (x[r,c] − mean[c])² / rows                       (biased, two-pass)
// invStd[c]   = 1 / √(variance[c] + ε)                               (h[0] = ε)
// x̂[r,c]      = (x[r,c] − mean[c]) · invStd[c];   y[r,c] = γ[c] · x̂[r,c] + β[c]
// inference:  y[r,c] = x[r,c] · s[c] + (β[c] − μ[c] · s[c]),  s[c] = γ[c] / √(σ²[c] + ε)
// backward:   dx[r,c] = γ[c] · invStd[c] · (dy[r,c] − Σdy[c]/rows − x̂[r,c] · Σ(dy·x̂)[c]/rows)
// Results an op returns together come out of one kernel, packed, so that they are read back at once:
// channelStats → [mean | variance | invStd] (3·C), normalizeScaleShift → [x̂ | y] (2·rows·C),
// and batchNormBackwardDx reads [Σdy | Σ(dy·x̂)] (2·C, channelSumDot in channel.ts).
// Fused batch norm → activation → max pool (stats as channelStats packs them; only mean and invStd are read):
// normalizeAct:       act 0: x̂[r,c];  act 1: z[r,c] = γ[c] · x̂[r,c] + β[c];  act 2: max(z[r,c], 0)
// normalizedReluMask: m[o] = dy[o] if z[k] > 0 else 0, k = argmax[o] (pooled cell o of channel c = o mod C)

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

export function channelStats(this: GpuKernelThis<BatchNormConstants>, x: Float32Array, mean: Float32Array, h: Float32Array): number {
  const t = this.thread.x;
  if (t < this.constants.C) return mean[t];
  let c = t - this.constants.C;
  if (c >= this.constants.C) c = c - this.constants.C;
  let sum = 0;
  for (let r = 0; r < this.constants.rows; r++) {
    const d = x[r * this.constants.C + c] - mean[c];
    sum += d * d;
  }
  const variance = sum / this.constants.rows;
  if (t < 2 * this.constants.C) return variance;
  return 1 / Math.sqrt(variance + h[0]);
}

export function normalizeScaleShift(
  this: GpuKernelThis<BatchNormConstants>,
  x: Float32Array,
  stats: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
): number {
  let t = this.thread.x;
  let half = 0;
  if (t >= this.constants.rows * this.constants.C) {
    t = t - this.constants.rows * this.constants.C;
    half = 1;
  }
  const c = t - Math.floor(t / this.constants.C) * this.constants.C;
  const xHat = (x[t] - stats[c]) * stats[2 * this.constants.C + c];
  if (half === 1) return gamma[c] * xHat + beta[c];
  return xHat;
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
  sums: Float32Array,
): number {
  const t = this.thread.x;
  const c = t - Math.floor(t / this.constants.C) * this.constants.C;
  return gamma[c] * invStd[c] * (dy[t] - sums[c] / this.constants.rows - xHat[t] * (sums[this.constants.C + c] / this.constants.rows));
}

export interface NormalizeActConstants {
  C: number;
  rows: number;
  /** 0: x̂, 1: γ·x̂ + β, 2: relu(γ·x̂ + β). */
  act: number;
}

export function normalizeAct(
  this: GpuKernelThis<NormalizeActConstants>,
  x: Float32Array,
  stats: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
): number {
  const t = this.thread.x;
  const c = t - Math.floor(t / this.constants.C) * this.constants.C;
  const xHat = (x[t] - stats[c]) * stats[2 * this.constants.C + c];
  if (this.constants.act === 0) return xHat;
  const z = gamma[c] * xHat + beta[c];
  if (this.constants.act === 2) return Math.max(z, 0);
  return z;
}

export function normalizedReluMask(
  this: GpuKernelThis<BatchNormConstants>,
  dy: Float32Array,
  argmax: Float32Array,
  x: Float32Array,
  stats: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
): number {
  const o = this.thread.x;
  const c = o - Math.floor(o / this.constants.C) * this.constants.C;
  const k = argmax[o];
  if (k < 0) return 0;
  const z = gamma[c] * ((x[k] - stats[c]) * stats[2 * this.constants.C + c]) + beta[c];
  if (z > 0) return dy[o];
  return 0;
}
