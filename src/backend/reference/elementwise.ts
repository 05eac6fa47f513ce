// The element-wise, pooling and normalization ops of the specification, as single loops over
// flat channels-last arrays. The fast cpu backend runs these same functions wherever its
// WebAssembly kernels decline a case.
import type { Conv2DInfo } from '../../geometry.js';
import { outputF32 } from '../arena.js';
import type { BatchNormTrainResult } from '../types.js';
import { windowBuffer, windowCells } from './pool-window.js';

/** y = x + bias broadcast over the last axis (channels). */
export function biasAdd(x: Float32Array, bias: Float32Array, channels: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let r = 0; r < x.length; r += channels) {
    for (let c = 0; c < channels; c++) y[r + c] = x[r + c] + bias[c];
  }
  return y;
}

/** db[c] = Σ dy[…, c]. */
export function biasGrad(dy: Float32Array, channels: number): Float32Array {
  const acc = new Float64Array(channels);
  for (let r = 0; r < dy.length; r += channels) {
    for (let c = 0; c < channels; c++) acc[c] += dy[r + c];
  }
  return Float32Array.from(acc);
}

/** Max over each window; `argmax[i]` is the flat index in x of the cell that won output i (first on ties, NaN wins). */
export function maxPool(x: Float32Array, info: Conv2DInfo): { y: Float32Array; argmax: Int32Array } {
  const { batch, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const y = new Float32Array(batch * OH * OW * C).fill(-Infinity);
  const argmax = new Int32Array(y.length).fill(-1);
  const cells = windowBuffer(info);
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const o = ((n * OH + oh) * OW + ow) * C;
        const count = windowCells(info, n, oh, ow, cells);
        for (let k = 0; k < count; k++) {
          const src = cells[k];
          for (let c = 0; c < C; c++) {
            // Strict > keeps the first cell in window order on ties; a NaN replaces any number so it propagates.
            const v = x[src + c];
            const best = y[o + c];
            if (argmax[o + c] < 0 || v > best || (v !== v && best === best)) {
              y[o + c] = v;
              argmax[o + c] = src + c;
            }
          }
        }
      }
    }
  }
  return { y, argmax };
}

/** dx[argmax[i]] += dy[i]; dx has `inputSize` elements. */
export function maxPoolBackprop(dy: Float32Array, argmax: Int32Array, inputSize: number): Float32Array {
  const dx = outputF32(inputSize, true);
  for (let i = 0; i < dy.length; i++) {
    if (argmax[i] >= 0) dx[argmax[i]] += dy[i];
  }
  return dx;
}

/** y = gamma·(x − mean)/sqrt(var + ε) + beta with batch mean and biased variance over every axis but the last. */
export function batchNormTrain(x: Float32Array, gamma: Float32Array, beta: Float32Array, channels: number, epsilon: number): BatchNormTrainResult {
  const rows = x.length / channels;
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  for (let r = 0; r < x.length; r += channels) {
    for (let c = 0; c < channels; c++) sum[c] += x[r + c];
  }
  const mean = new Float32Array(channels);
  for (let c = 0; c < channels; c++) mean[c] = sum[c] / rows;
  // Two passes (mean, then squared deviations) for a variance free of cancellation.
  for (let r = 0; r < x.length; r += channels) {
    for (let c = 0; c < channels; c++) {
      const d = x[r + c] - mean[c];
      sumSq[c] += d * d;
    }
  }
  const variance = new Float32Array(channels);
  const invStd = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    variance[c] = sumSq[c] / rows;
    invStd[c] = 1 / Math.sqrt(variance[c] + epsilon);
  }
  const xHat = new Float32Array(x.length);
  const y = new Float32Array(x.length);
  for (let r = 0; r < x.length; r += channels) {
    for (let c = 0; c < channels; c++) {
      const h = (x[r + c] - mean[c]) * invStd[c];
      xHat[r + c] = h;
      y[r + c] = gamma[c] * h + beta[c];
    }
  }
  return { y, mean, variance, xHat, invStd };
}

/** batchNormInference as y = x·scale + shift per channel: scale = γ/sqrt(variance + ε), shift = β − mean·scale. */
export function batchNormScaleShift(
  gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array, channels: number, epsilon: number,
): { scale: Float32Array; shift: Float32Array } {
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = gamma[c] / Math.sqrt(variance[c] + epsilon);
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  return { scale, shift };
}

/** y = gamma·(x − mean)/sqrt(variance + ε) + beta with the given (moving) statistics. */
export function batchNormInference(
  x: Float32Array, gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array, channels: number, epsilon: number,
): Float32Array {
  const { scale, shift } = batchNormScaleShift(gamma, beta, mean, variance, channels, epsilon);
  const y = new Float32Array(x.length);
  for (let r = 0; r < x.length; r += channels) {
    for (let c = 0; c < channels; c++) y[r + c] = x[r + c] * scale[c] + shift[c];
  }
  return y;
}

/** The per-channel factors of batchNormBackward's dx = k·(dy − meanDy − x̂·meanDyX): k = γ·invStd and the means of Σdy, Σdy·x̂ over `rows`. */
export function batchNormBackwardScales(
  sumDy: Float64Array, sumDyX: Float64Array, gamma: Float32Array, invStd: Float32Array, rows: number, channels: number,
): { k: Float32Array; meanDy: Float32Array; meanDyX: Float32Array } {
  const k = new Float32Array(channels);
  const meanDy = new Float32Array(channels);
  const meanDyX = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    k[c] = gamma[c] * invStd[c];
    meanDy[c] = sumDy[c] / rows;
    meanDyX[c] = sumDyX[c] / rows;
  }
  return { k, meanDy, meanDyX };
}

/** Gradients of batchNormTrain: dx = gamma·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)), dGamma = Σ dy·x̂, dBeta = Σ dy. */
export function batchNormBackward(
  dy: Float32Array, xHat: Float32Array, gamma: Float32Array, invStd: Float32Array, channels: number,
): { dx: Float32Array; dGamma: Float32Array; dBeta: Float32Array } {
  const rows = dy.length / channels;
  const sumDy = new Float64Array(channels);
  const sumDyX = new Float64Array(channels);
  for (let r = 0; r < dy.length; r += channels) {
    for (let c = 0; c < channels; c++) {
      sumDy[c] += dy[r + c];
      sumDyX[c] += dy[r + c] * xHat[r + c];
    }
  }
  const dx = new Float32Array(dy.length);
  const { k, meanDy, meanDyX } = batchNormBackwardScales(sumDy, sumDyX, gamma, invStd, rows, channels);
  for (let r = 0; r < dy.length; r += channels) {
    for (let c = 0; c < channels; c++) dx[r + c] = k[c] * (dy[r + c] - meanDy[c] - xHat[r + c] * meanDyX[c]);
  }
  return { dx, dGamma: Float32Array.from(sumDyX), dBeta: Float32Array.from(sumDy) };
}

/** Element-wise product. */
export function multiply(a: Float32Array, b: Float32Array): Float32Array {
  const y = outputF32(a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i] * b[i];
  return y;
}
