import type { Conv2DInfo } from '../geometry.js';

/** Element-wise activations every backend implements, forward and backward. */
export type ActivationKind =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'sigmoid'
  | 'tanh'
  | 'softmax'
  | 'leakyRelu'
  | 'elu'
  | 'selu'
  | 'softplus'
  | 'softsign'
  | 'swish'
  | 'hardSigmoid';

/** Result of a training-mode batch normalization; `xHat` and `invStd` are what backward needs. */
export interface BatchNormTrainResult {
  y: Float32Array;
  /** Batch mean per channel. */
  mean: Float32Array;
  /** Biased batch variance per channel (÷n). */
  variance: Float32Array;
  xHat: Float32Array;
  invStd: Float32Array;
}

/** Result of batchNormActPoolTrain: the pooled output and what backward needs. */
export interface BatchNormActPoolResult {
  /** Pooled activations [batch, outH, outW, C]. */
  y: Float32Array;
  /** Flat index in x of the cell that won each pooled output (as maxPool's). */
  argmax: Int32Array;
  mean: Float32Array;
  /** Biased batch variance per channel (÷n). */
  variance: Float32Array;
  invStd: Float32Array;
}

/**
 * The op table of a backend: every forward and backward the layers and optimizers need.
 * Arrays are flat, row-major, channels-last. Ops here trust their input: the public layer and
 * model code validates shapes and values before calling them. Each op returns new arrays
 * unless it says it updates in place.
 */
export interface Backend {
  readonly name: string;

  /** C [m×n] = op(A)·op(B); A is [m×k] ([k×m] if transA), B is [k×n] ([n×k] if transB). */
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean): Float32Array;
  /** y [batch, outH, outW, outC] = x [batch, inH, inW, inC] ⋆ w [fh, fw, inC, outC] (cross-correlation). */
  conv2d(x: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array;
  /** dx [batch, inH, inW, inC] from dy [batch, outH, outW, outC] and w. */
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array;
  /** dw [fh, fw, inC, outC] from x and dy. */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array;
  /**
   * Optional: y = act(conv2d(x, w) + bias) in one pass, act 'linear' or 'relu' (bias null: none).
   * Must equal conv2d, then biasAdd, then activation. Layers use it only where a backend has it.
   */
  fusedConv2d?(x: Float32Array, w: Float32Array, bias: Float32Array | null, info: Conv2DInfo, activation: 'linear' | 'relu'): Float32Array;
  /**
   * Optional, for inference: maxPool(fusedConv2d(x, w, bias, info, activation), pool).y in one
   * call, so the convolution's full-size output never leaves the backend (no argmax either).
   * `pool` is the max-pool geometry over the convolution's output. Must equal the two ops.
   */
  fusedConv2dMaxPool?(
    x: Float32Array, w: Float32Array, bias: Float32Array | null, info: Conv2DInfo, activation: 'linear' | 'relu', pool: Conv2DInfo,
  ): Float32Array;
  /**
   * Optional, training: maxPool(fusedConv2d(x, w, bias, info, activation), pool) with its argmax
   * (flat index into the convolution's output), for pools whose windows do not overlap. The
   * convolution's full-size output never leaves the backend.
   */
  fusedConv2dMaxPoolTrain?(
    x: Float32Array, w: Float32Array, bias: Float32Array | null, info: Conv2DInfo, activation: 'linear' | 'relu', pool: Conv2DInfo,
  ): { y: Float32Array; argmax: Int32Array };
  /**
   * Optional: the gradients of fusedConv2dMaxPoolTrain from the pooled gradient dy, given its
   * pooled output y and argmax: dz = dy at each argmax cell (where y > 0 for relu), 0 elsewhere,
   * then db, dw and dx of the convolution as fusedConv2dBackward, each only when `need` asks.
   */
  fusedConv2dMaxPoolBackward?(
    x: Float32Array, w: Float32Array, dy: Float32Array, y: Float32Array, argmax: Int32Array, info: Conv2DInfo,
    activation: 'linear' | 'relu', need: { dx: boolean; dw: boolean; db: boolean },
  ): { dx: Float32Array | null; dw: Float32Array | null; db: Float32Array | null };
  /**
   * Optional: the gradients of fusedConv2d from dy, each computed only when `need` asks (else
   * null): dz = act'·dy (for relu read off the forward's output y), db = Σ dz, dw, dx.
   */
  fusedConv2dBackward?(
    x: Float32Array,
    w: Float32Array,
    dy: Float32Array,
    y: Float32Array,
    info: Conv2DInfo,
    activation: 'linear' | 'relu',
    need: { dx: boolean; dw: boolean; db: boolean },
  ): { dx: Float32Array | null; dw: Float32Array | null; db: Float32Array | null };

  /** y = x + bias broadcast over the last axis (channels). */
  biasAdd(x: Float32Array, bias: Float32Array, channels: number): Float32Array;
  /** db[c] = Σ dy[…, c]. */
  biasGrad(dy: Float32Array, channels: number): Float32Array;

  /** Max pooling; `argmax[i]` is the flat index in x of the cell that won output i (first on ties). */
  maxPool(x: Float32Array, info: Conv2DInfo): { y: Float32Array; argmax: Int32Array };
  /** dx[argmax[i]] += dy[i]; dx has `inputSize` elements. */
  maxPoolBackprop(dy: Float32Array, argmax: Int32Array, inputSize: number): Float32Array;

  /** Batch normalization over every axis but the last, with batch statistics. */
  batchNormTrain(x: Float32Array, gamma: Float32Array, beta: Float32Array, channels: number, epsilon: number): BatchNormTrainResult;
  /**
   * Optional, training: maxPool(act(batchNormTrain(x).y), pool) in one call, for pools whose
   * windows do not overlap (strides = pool size, 'valid'); act 'relu' or 'linear'. The full-size
   * normalized tensor is never returned: backward recomputes it from x, mean and invStd. Must
   * equal the three ops (argmax included).
   */
  batchNormActPoolTrain?(
    x: Float32Array, gamma: Float32Array, beta: Float32Array, channels: number, epsilon: number, activation: 'linear' | 'relu', pool: Conv2DInfo,
  ): BatchNormActPoolResult;
  /** Optional: the gradients of batchNormActPoolTrain from the pooled gradient dy. */
  batchNormActPoolBackward?(
    dy: Float32Array, x: Float32Array, gamma: Float32Array, beta: Float32Array, mean: Float32Array, invStd: Float32Array,
    argmax: Int32Array, channels: number, activation: 'linear' | 'relu', pool: Conv2DInfo,
  ): { dx: Float32Array; dGamma: Float32Array; dBeta: Float32Array };
  /** Batch normalization with given (moving) statistics. */
  batchNormInference(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    channels: number,
    epsilon: number,
  ): Float32Array;
  /** Gradients of training-mode batch normalization. */
  batchNormBackward(
    dy: Float32Array,
    xHat: Float32Array,
    gamma: Float32Array,
    invStd: Float32Array,
    channels: number,
  ): { dx: Float32Array; dGamma: Float32Array; dBeta: Float32Array };

  /** y = f(x); softmax runs over the last axis of length `channels`. `alpha` parametrizes leakyRelu and elu. */
  activation(kind: ActivationKind, x: Float32Array, channels: number, alpha: number): Float32Array;
  /** dx = f'(x)·dy, given the forward's x and y. */
  activationBackward(kind: ActivationKind, dy: Float32Array, x: Float32Array, y: Float32Array, channels: number, alpha: number): Float32Array;

  /** Element-wise product (dropout applies its scaled mask with it). */
  multiply(a: Float32Array, b: Float32Array): Float32Array;

  /** SGD, in place on value and velocity (Keras form; see KERAS-SEMANTICS.md). */
  sgdUpdate(value: Float32Array, grad: Float32Array, velocity: Float32Array | null, lr: number, momentum: number, nesterov: boolean): void;
  /** Adam, in place on value, m and v; `step` counts from 1. */
  adamUpdate(
    value: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    lr: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    step: number,
  ): void;
  /** RMSprop, in place on value and the running mean square `ms`. */
  rmspropUpdate(value: Float32Array, grad: Float32Array, ms: Float32Array, lr: number, rho: number, epsilon: number): void;
}
