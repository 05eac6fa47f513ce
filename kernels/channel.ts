// Per-channel ops over a flat [rows, C] array (C = last axis):
// biasAdd:     y[r,c] = x[r,c] + b[c]
// channelSum:  s[c]   = Σ_r x[r,c]              (bias gradient)
// channelSumDot: s[c] = Σ_r x[r,c],  s[C+c] = Σ_r x[r,c] · z[r,c]   (2·C: Σdy and Σ dy·x̂ of batch norm)

export interface ChannelConstants {
  C: number;
  rows: number;
}

export function biasAdd(this: GpuKernelThis<ChannelConstants>, x: Float32Array, bias: Float32Array): number {
  const t = this.thread.x;
  const r = Math.floor(t / this.constants.C);
  return x[t] + bias[t - r * this.constants.C];
}

export function channelSum(this: GpuKernelThis<ChannelConstants>, x: Float32Array): number {
  const c = this.thread.x;
  let sum = 0;
  for (let r = 0; r < this.constants.rows; r++) {
    sum += x[r * this.constants.C + c];
  }
  return sum;
}

export function channelSumDot(this: GpuKernelThis<ChannelConstants>, x: Float32Array, z: Float32Array): number {
  let c = this.thread.x;
  let dot = 0;
  if (c >= this.constants.C) {
    c = c - this.constants.C;
    dot = 1;
  }
  let sum = 0;
  for (let r = 0; r < this.constants.rows; r++) {
    if (dot === 1) {
      sum += x[r * this.constants.C + c] * z[r * this.constants.C + c];
    } else {
      sum += x[r * this.constants.C + c];
    }
  }
  return sum;
}
