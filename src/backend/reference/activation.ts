import { outputF32 } from '../arena.js';
import type { ActivationKind } from '../types.js';

/** y = f(x) for every activation kind; softmax over the last axis of length `channels`, `alpha` for leakyRelu and elu. */
export function activationForward(kind: ActivationKind, x: Float32Array, channels: number, alpha: number): Float32Array {
  const n = x.length;
  const y = outputF32(n);
  switch (kind) {
    case 'linear':
      y.set(x);
      break;
    case 'relu':
      for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
      break;
    case 'relu6':
      for (let i = 0; i < n; i++) y[i] = Math.min(Math.max(x[i], 0), 6);
      break;
    case 'sigmoid':
      for (let i = 0; i < n; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
      break;
    case 'tanh':
      for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]);
      break;
    case 'leakyRelu':
      for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : alpha * x[i];
      break;
    case 'elu':
      for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : alpha * Math.expm1(x[i]);
      break;
    case 'selu':
      for (let i = 0; i < n; i++) y[i] = SELU_SCALE * (x[i] > 0 ? x[i] : SELU_ALPHA * Math.expm1(x[i]));
      break;
    case 'softplus':
      for (let i = 0; i < n; i++) y[i] = Math.max(x[i], 0) + Math.log1p(Math.exp(-Math.abs(x[i])));
      break;
    case 'softsign':
      for (let i = 0; i < n; i++) y[i] = x[i] / (1 + Math.abs(x[i]));
      break;
    case 'swish':
      for (let i = 0; i < n; i++) y[i] = x[i] / (1 + Math.exp(-x[i]));
      break;
    case 'hardSigmoid':
      for (let i = 0; i < n; i++) y[i] = Math.min(Math.max(0.2 * x[i] + 0.5, 0), 1);
      break;
    case 'softmax':
      for (let r = 0; r < n; r += channels) {
        let max = -Infinity;
        for (let c = 0; c < channels; c++) max = Math.max(max, x[r + c]);
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += (y[r + c] = Math.exp(x[r + c] - max));
        for (let c = 0; c < channels; c++) y[r + c] /= sum;
      }
      break;
  }
  return y;
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** dx = f'(x)·dy, from the forward's x and y (whichever the derivative is cheaper from). */
export function activationGradient(kind: ActivationKind, dy: Float32Array, x: Float32Array, y: Float32Array, channels: number, alpha: number): Float32Array {
  const n = dy.length;
  const dx = outputF32(n, true);
  switch (kind) {
    case 'linear':
      dx.set(dy);
      break;
    case 'relu':
      for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
      break;
    case 'relu6':
      for (let i = 0; i < n; i++) dx[i] = x[i] > 0 && x[i] < 6 ? dy[i] : 0;
      break;
    case 'sigmoid':
      for (let i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
      break;
    case 'tanh':
      for (let i = 0; i < n; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
      break;
    case 'leakyRelu':
      for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : alpha * dy[i];
      break;
    case 'elu':
      for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : dy[i] * (y[i] + alpha);
      break;
    case 'selu':
      for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? SELU_SCALE * dy[i] : dy[i] * (y[i] + SELU_SCALE * SELU_ALPHA);
      break;
    case 'softplus':
      for (let i = 0; i < n; i++) dx[i] = dy[i] / (1 + Math.exp(-x[i]));
      break;
    case 'softsign':
      for (let i = 0; i < n; i++) {
        const d = 1 + Math.abs(x[i]);
        dx[i] = dy[i] / (d * d);
      }
      break;
    case 'swish':
      for (let i = 0; i < n; i++) {
        const s = 1 / (1 + Math.exp(-x[i]));
        dx[i] = dy[i] * (s + x[i] * s * (1 - s));
      }
      break;
    case 'hardSigmoid':
      for (let i = 0; i < n; i++) dx[i] = x[i] > -2.5 && x[i] < 2.5 ? 0.2 * dy[i] : 0;
      break;
    case 'softmax':
      for (let r = 0; r < n; r += channels) {
        let dot = 0;
        for (let c = 0; c < channels; c++) dot += dy[r + c] * y[r + c];
        for (let c = 0; c < channels; c++) dx[r + c] = y[r + c] * (dy[r + c] - dot);
      }
      break;
  }
  return dx;
}
