// c[r,s] = Σ_k opA[r,k] · opB[k,s];  opA = A [M×K] or Aᵀ (A stored [K×M]) when tA = 1; opB = B [K×N] or Bᵀ (B stored [N×K]) when tB = 1

export interface MatmulConstants {
  M: number;
  K: number;
  N: number;
  tA: number;
  tB: number;
}

export function matmul(this: GpuKernelThis<MatmulConstants>, a: Float32Array, b: Float32Array): number {
  const t = this.thread.x;
  const r = Math.floor(t / this.constants.N);
  const s = t - r * this.constants.N;
  let sum = 0;
  for (let k = 0; k < this.constants.K; k++) {
    let av = 0;
    if (this.constants.tA === 1) {
      av = a[k * this.constants.M + r];
    } else {
      av = a[r * this.constants.K + k];
    }
    let bv = 0;
    if (this.constants.tB === 1) {
      bv = b[s * this.constants.K + k];
    } else {
      bv = b[k * this.constants.N + s];
    }
    sum += av * bv;
  }
  return sum;
}
