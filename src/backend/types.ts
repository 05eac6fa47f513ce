import type { Conv2DInfo, Pad2DInfo } from '../geometry.js';

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

/**
 * Keras' relu with options: y = maxValue when x ≥ maxValue, x when threshold < x < maxValue,
 * negativeSlope·(x − threshold) otherwise (maxValue Infinity: no cap).
 */
export interface ReluOptions {
  maxValue: number;
  negativeSlope: number;
  threshold: number;
}

/** Which element-wise extremum {@link Backend.extremum} takes. */
export type ExtremumKind = 'max' | 'min';

/** How {@link Backend.imageTransform} reads a source coordinate outside the image (TensorFlow's fill modes). */
export type FillMode = 'reflect' | 'wrap' | 'constant' | 'nearest';

/**
 * The geometry of {@link Backend.imageTransform}. Output pixel (i, j) of image n reads the source
 * point (sy, sx) = (t₃·j + t₄·i + t₅, t₀·j + t₁·i + t₂), t = transforms[n]; each coordinate is
 * mapped into the image by `fillMode` ('reflect': dcba|abcd|dcba, 'wrap': abcd|abcd|abcd,
 * 'nearest': the edge, 'constant': unchanged, cells outside read `fillValue`), then read by
 * `interpolation` ('bilinear' over the 4 cells around it, 'nearest': the cell at the rounded point).
 */
export interface ImageTransformInfo {
  batch: number;
  height: number;
  width: number;
  channels: number;
  fillMode: FillMode;
  interpolation: 'bilinear' | 'nearest';
  fillValue: number;
}

/** The geometry and clip range of {@link Backend.adjustContrast}. */
export interface ContrastInfo {
  batch: number;
  height: number;
  width: number;
  channels: number;
  lower: number;
  upper: number;
}

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

/** The activations the fused ops apply: the ones whose gradient can be read off the output. */
export type FusedActivation = 'linear' | 'relu';

/** Which gradients a fused backward computes; the others come back null. */
export interface GradNeed {
  dx: boolean;
  dw: boolean;
  db: boolean;
}

/** Gradients of a fused convolution, each null unless {@link GradNeed} asked for it. */
export interface ConvGrads {
  dx: Float32Array | null;
  dw: Float32Array | null;
  db: Float32Array | null;
}

/**
 * A convolution with its bias, activation and (optionally) a max pool in one call. Each must equal
 * the plain ops it stands for (conv2d → biasAdd → activation → maxPool), as
 * src/backend/reference/fused.ts composes them; bias null means none.
 */
export interface FusedConvOps {
  /** y = act(conv2d(x, w) + bias). */
  conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, info: Conv2DInfo, activation: FusedActivation): Float32Array;
  /**
   * The gradients of {@link conv2d} from dy, each only when `need` asks: dz = act'·dy (for relu
   * read off the forward's output y), db = Σ dz, dw, dx.
   */
  conv2dBackward(
    x: Float32Array, w: Float32Array, dy: Float32Array, y: Float32Array, info: Conv2DInfo, activation: FusedActivation, need: GradNeed,
  ): ConvGrads;
  /**
   * Inference: maxPool(conv2d(x, w, bias, info, activation), pool).y, so the convolution's
   * full-size output never leaves the backend (no argmax either). `pool` is the max-pool geometry
   * over the convolution's output. `wVersion`: w is a weight (or a fold of weights) at that
   * version (src/layers/weight.ts); a backend may keep a prepared copy of w (the cpu backend's
   * Winograd transform) for the next call while the array and its version stay the same.
   */
  conv2dMaxPool(
    x: Float32Array, w: Float32Array, bias: Float32Array | null, info: Conv2DInfo, activation: FusedActivation, pool: Conv2DInfo, wVersion?: number,
  ): Float32Array;
  /**
   * Training: maxPool(conv2d(x, w, bias, info, activation), pool) with its argmax (flat index into
   * the convolution's output), for pools whose windows do not overlap.
   */
  conv2dMaxPoolTrain(
    x: Float32Array, w: Float32Array, bias: Float32Array | null, info: Conv2DInfo, activation: FusedActivation, pool: Conv2DInfo,
  ): { y: Float32Array; argmax: Int32Array };
  /**
   * The gradients of {@link conv2dMaxPoolTrain} from the pooled gradient dy, given its pooled
   * output y and argmax: dz = dy at each argmax cell (where y > 0 for relu), 0 elsewhere, then
   * db, dw and dx of the convolution as {@link conv2dBackward}.
   */
  conv2dMaxPoolBackward(
    x: Float32Array, w: Float32Array, dy: Float32Array, y: Float32Array, argmax: Int32Array, info: Conv2DInfo, activation: FusedActivation, need: GradNeed,
  ): ConvGrads;
}

/**
 * Training-mode batch norm → activation → max pool of non-overlapping windows (strides = pool
 * size, 'valid') in one call. The full-size normalized tensor is never returned: backward
 * recomputes it from x, mean and invStd. Must equal batchNormTrain → activation → maxPool.
 */
export interface FusedBatchNormOps {
  /** maxPool(act(batchNormTrain(x).y), pool), argmax included. */
  train(
    x: Float32Array, gamma: Float32Array, beta: Float32Array, channels: number, epsilon: number, activation: FusedActivation, pool: Conv2DInfo,
  ): BatchNormActPoolResult;
  /** The gradients of {@link train} from the pooled gradient dy. */
  backward(
    dy: Float32Array, x: Float32Array, gamma: Float32Array, beta: Float32Array, mean: Float32Array, invStd: Float32Array,
    argmax: Int32Array, channels: number, activation: FusedActivation, pool: Conv2DInfo,
  ): { dx: Float32Array; dGamma: Float32Array; dBeta: Float32Array };
}

/** A backend's fused ops: the capability record src/model/fusion.ts plans from. */
export interface FusedOps {
  /** Conv2D + bias + relu/linear, alone or with the max pool after it. */
  readonly conv: FusedConvOps | null;
  /** BatchNormalization → relu/linear → non-overlapping max pool, training. */
  readonly batchNormActPool: FusedBatchNormOps | null;
}

/** No fused ops: every layer runs its own ops. */
export const NO_FUSED_OPS: FusedOps = Object.freeze({ conv: null, batchNormActPool: null });

/**
 * The op table of a backend: every forward and backward the layers and optimizers need.
 * Arrays are flat, row-major, channels-last. Ops here trust their input: the public layer and
 * model code validates shapes and values before calling them. Each op returns new arrays
 * unless it says it updates in place.
 */
export interface Backend {
  readonly name: string;
  /**
   * The fused ops this backend runs (each group null where it has none). src/model/fusion.ts plans
   * from this record alone which runs of layers become one call; nothing else probes for them.
   */
  readonly fused: FusedOps;

  /**
   * C [m×n] = op(A)·op(B); A is [m×k] ([k×m] if transA), B is [k×n] ([n×k] if transB).
   * `bVersion`: B is a layer's weight at that version (src/layers/weight.ts); a backend may keep a
   * prepared copy of B for the next call while the version stays the same (the cpu backend does).
   */
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean, bVersion?: number): Float32Array;
  /** y [batch, outH, outW, outC] = x [batch, inH, inW, inC] ⋆ w [fh, fw, inC, outC] (cross-correlation). */
  conv2d(x: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array;
  /** dx [batch, inH, inW, inC] from dy [batch, outH, outW, outC] and w. */
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array;
  /** dw [fh, fw, inC, outC] from x and dy. */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array;
  /** y = x + bias broadcast over the last axis (channels). */
  biasAdd(x: Float32Array, bias: Float32Array, channels: number): Float32Array;
  /** db[c] = Σ dy[…, c]. */
  biasGrad(dy: Float32Array, channels: number): Float32Array;

  /** Max pooling; `argmax[i]` is the flat index in x of the cell that won output i (first on ties). */
  maxPool(x: Float32Array, info: Conv2DInfo): { y: Float32Array; argmax: Int32Array };
  /** dx[argmax[i]] += dy[i]; dx has `inputSize` elements. */
  maxPoolBackprop(dy: Float32Array, argmax: Int32Array, inputSize: number): Float32Array;

  /**
   * Average pooling: y [batch, outH, outW, C] = the mean of each window over its cells inside the
   * image ('same' padding is not counted, as TensorFlow's).
   */
  avgPool(x: Float32Array, info: Conv2DInfo): Float32Array;
  /** dx [batch, inH, inW, C]: each dy spread evenly over the cells its window averaged. */
  avgPoolBackprop(dy: Float32Array, info: Conv2DInfo): Float32Array;

  /**
   * Depthwise convolution: y [batch, outH, outW, C·M] with y[…, c·M + m] = Σ_{i,j} x[…, c] ⋆ w[i, j, c, m];
   * w is [fh, fw, C, M], M = info.outChannels / info.inChannels.
   */
  depthwiseConv2d(x: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array;
  /** dx [batch, inH, inW, C] of {@link depthwiseConv2d} from dy [batch, outH, outW, C·M] and w. */
  depthwiseConv2dBackpropInput(dy: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array;
  /** dw [fh, fw, C, M] of {@link depthwiseConv2d} from x and dy. */
  depthwiseConv2dBackpropFilter(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array;

  /** y [batch, outH, outW, C]: x with zero rows and columns around each image. */
  zeroPad2d(x: Float32Array, info: Pad2DInfo): Float32Array;
  /** dx [batch, inH, inW, C]: dy with the padding cut away. */
  zeroPad2dBackprop(dy: Float32Array, info: Pad2DInfo): Float32Array;

  /** Keras' relu with maxValue, negativeSlope and threshold (see {@link ReluOptions}). */
  reluWithOptions(x: Float32Array, options: ReluOptions): Float32Array;
  /** dx = dy where threshold < x < maxValue, negativeSlope·dy where x < threshold, 0 elsewhere. */
  reluWithOptionsBackward(dy: Float32Array, x: Float32Array, options: ReluOptions): Float32Array;

  /** Batch normalization over every axis but the last, with batch statistics. */
  batchNormTrain(x: Float32Array, gamma: Float32Array, beta: Float32Array, channels: number, epsilon: number): BatchNormTrainResult;
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
  /**
   * Inverted dropout: y[i] = x[i]/(1 − rate) where a counter-based hash of (seed, i) keeps it, else 0
   * (src/backend/reference/dropout.ts: the same mask on every backend, drawn where it is applied).
   * `seed` is a uint32, one per training step and layer; the same call on dy is the backward.
   */
  dropout(x: Float32Array, rate: number, seed: number): Float32Array;
  /** Element-wise sum (the Add layer, and gradients meeting where a tensor feeds several layers). */
  add(a: Float32Array, b: Float32Array): Float32Array;
  /**
   * y [rows, Σ widths]: row r is row r of each part in turn, part i being [rows, widths[i]]
   * (the Concatenate layer along any axis: rows = the axes before it, width = the rest).
   */
  concat(parts: readonly Float32Array[], rows: number, widths: readonly number[]): Float32Array;
  /** The gradients of {@link concat}: dy [rows, Σ widths] cut into parts [rows, widths[i]]. */
  concatBackward(dy: Float32Array, rows: number, widths: readonly number[]): Float32Array[];
  /** y = p·a + q·b, element-wise (the Subtract and Average layers). */
  combine(a: Float32Array, b: Float32Array, p: number, q: number): Float32Array;
  /** y = max(a, b) or min(a, b), element-wise (the Maximum and Minimum layers). */
  extremum(kind: ExtremumKind, a: Float32Array, b: Float32Array): Float32Array;
  /** The gradients of {@link extremum}: dy to a where a wins or ties (a ≥ b for max, a ≤ b for min, as TF), else to b. */
  extremumBackward(kind: ExtremumKind, dy: Float32Array, a: Float32Array, b: Float32Array): { da: Float32Array; db: Float32Array };

  /**
   * y [batch, H, W, C]: each image resampled through its affine transform (the RandomRotation and
   * RandomZoom layers), as TensorFlow's ImageProjectiveTransformV3: see {@link ImageTransformInfo}.
   * `transforms` is [batch, 6].
   */
  imageTransform(x: Float32Array, transforms: Float32Array, info: ImageTransformInfo): Float32Array;
  /** dx [batch, H, W, C] of {@link imageTransform}: the adjoint of its resampling (the fill value gets no gradient). */
  imageTransformBackward(dy: Float32Array, transforms: Float32Array, info: ImageTransformInfo): Float32Array;
  /**
   * y = clip((x − m)·f + m, lower, upper) per image and channel (the RandomContrast layer): m the
   * mean over the image's pixels of that channel, f = factors[n]. x and y are [batch, H, W, C].
   */
  adjustContrast(x: Float32Array, factors: Float32Array, info: ContrastInfo): Float32Array;
  /** dx of {@link adjustContrast}: g = dy where lower ≤ z ≤ upper (z before the clip), dx = f·g + (1 − f)·mean(g) per image and channel. */
  adjustContrastBackward(dy: Float32Array, x: Float32Array, factors: Float32Array, info: ContrastInfo): Float32Array;

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

  /**
   * An array with a's values for state kept across steps (weights, gradients, optimizer slots), where
   * this backend's ops read it fastest: the gpu backend returns a device-resident copy (a itself when it
   * already holds it); the CPU backends return a host array (a itself, or the host copy of a device array).
   * With `forStep`, a's values are needed only until the running step ends (a training step's batch): the
   * cpu backend then copies a large one into the engine's memory for the step (its ops read it there).
   */
  hold(a: Float32Array, forStep?: boolean): Float32Array;
  /**
   * The index of the first NaN or ±Infinity in `a`, or -1: a model's check of a batch it has just
   * held for a step (`hold(a, true)`). The cpu backend tests a batch its engine holds on all its
   * threads. Optional; a model tests in its own loop where a backend has none.
   */
  firstNonFinite?(a: Float32Array): number;

  /**
   * Ops follow soon (a model call has begun and checks its inputs first): the cpu backend wakes its
   * engine's threads, which poll for work a while before sleeping again, so that a vCPU that slept
   * since the last call is running by the time the first job comes. Optional; a hint only.
   */
  wake?(): void;
  /**
   * Runs fn (a training step): the gpu backend frees the device memory of the arrays fn's ops made when
   * it returns, except state updated in place (weights, gradients, optimizer slots, moving statistics);
   * the CPU backends just run fn.
   */
  scope<T>(fn: () => T): T;
}

/** A backend's plain ops: the table without its fused ops (what the fused ops are composed of). */
export type PlainOps = Omit<Backend, 'fused'>;
