import { getBackend } from '../backend/index.js';
import { deviceCombine, deviceState } from '../device-storage.js';
import type { Initializer, InitializerName } from '../initializers.js';
import { wrap, type Tensor } from '../tensor.js';
import { addInto, initializerName } from './kernel-layer.js';
import { checkKeys, formatShape, Layer, type ForwardContext, type LayerConfig, type Param } from './layer.js';
import { weightValues } from './weight.js';

/** Options of {@link BatchNormalization}. */
export interface BatchNormalizationConfig extends LayerConfig {
  /** Only the last (channel) axis is supported: -1, or its positive index. */
  axis?: number;
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: InitializerName | Initializer;
  gammaInitializer?: InitializerName | Initializer;
  movingMeanInitializer?: InitializerName | Initializer;
  movingVarianceInitializer?: InitializerName | Initializer;
}

/**
 * Batch normalization over the channel (last) axis. Training uses the batch mean and biased
 * variance and updates moving = moving·momentum + batch·(1 − momentum); inference uses the
 * moving statistics. Weights: gamma, beta (trainable), movingMean, movingVariance.
 *
 * @example
 * new layers.BatchNormalization(); // momentum 0.99, epsilon 1e-3
 */
export class BatchNormalization extends Layer {
  readonly className = 'BatchNormalization';
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly inits: Record<'beta' | 'gamma' | 'movingMean' | 'movingVariance', InitializerName | Initializer>;
  private gamma: Param | null = null;
  private beta: Param | null = null;
  private movingMean: Param | null = null;
  private movingVariance: Param | null = null;
  private saved: { xHat: Float32Array; invStd: Float32Array; gamma: Float32Array } | { frozen: Float32Array } | null = null;

  constructor(config: BatchNormalizationConfig = {}) {
    super(config, 'BatchNormalization');
    checkKeys('BatchNormalization', config, ['axis', 'momentum', 'epsilon', 'center', 'scale', 'betaInitializer', 'gammaInitializer', 'movingMeanInitializer', 'movingVarianceInitializer']);
    const owner = `BatchNormalization '${this.name}'`;
    this.axis = config.axis ?? -1;
    if (!Number.isInteger(this.axis)) throw new Error(`${owner}: axis must be an integer, got ${config.axis}`);
    this.momentum = config.momentum ?? 0.99;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new Error(`${owner}: momentum must be in [0, 1], got ${config.momentum}`);
    this.epsilon = config.epsilon ?? 1e-3;
    if (!(this.epsilon > 0)) throw new Error(`${owner}: epsilon must be positive, got ${config.epsilon}`);
    this.center = config.center ?? true;
    this.scale = config.scale ?? true;
    this.inits = {
      beta: config.betaInitializer ?? 'zeros',
      gamma: config.gammaInitializer ?? 'ones',
      movingMean: config.movingMeanInitializer ?? 'zeros',
      movingVariance: config.movingVarianceInitializer ?? 'ones',
    };
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    // Sample shapes exclude the batch axis, so the channel axis of a rank-r tensor is r - 1 here plus one.
    const rank = inputShape.length + 1;
    if (this.axis !== -1 && this.axis !== rank - 1) {
      throw new Error(`BatchNormalization '${this.name}': only the last axis is supported (axis -1 or ${rank - 1}), got axis ${this.axis} for input ${formatShape(inputShape)}`);
    }
    return [...inputShape];
  }

  protected override createParams(inputShape: readonly number[]): void {
    const c = inputShape[inputShape.length - 1];
    if (this.scale) this.gamma = this.addWeight('gamma', [c], this.inits.gamma);
    if (this.center) this.beta = this.addWeight('beta', [c], this.inits.beta);
    this.movingMean = this.addWeight('moving_mean', [c], this.inits.movingMean, false);
    this.movingVariance = this.addWeight('moving_variance', [c], this.inits.movingVariance, false);
  }

  private channels(): number {
    return this.movingMean!.shape[0];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const c = this.channels();
    if (x.shape[x.rank - 1] !== c) throw new Error(`BatchNormalization '${this.name}': expects ${c} channels on the last axis, got [${x.shape.join(', ')}]`);
    const backend = getBackend();
    // Reads, not counted as writes (src/layers/weight.ts): the moving statistics count when updated.
    const gamma = this.gamma ? weightValues(this.gamma) : new Float32Array(c).fill(1);
    const beta = this.beta ? weightValues(this.beta) : new Float32Array(c);
    if (!ctx.training || !this.trainable) {
      // A frozen layer runs in inference mode during fit too (Keras 2/3): its backward is then
      // the moving statistics' affine map, dx = dy·gamma/sqrt(movingVariance + epsilon).
      this.saved = ctx.training ? { frozen: gamma } : null;
      return wrap(backend.batchNormInference(x.values, gamma, beta, weightValues(this.movingMean!), weightValues(this.movingVariance!), c, this.epsilon), x.shape);
    }
    const r = backend.batchNormTrain(x.values, gamma, beta, c, this.epsilon);
    this.updateMovingStatistics(r.mean, r.variance);
    this.saved = { xHat: r.xHat, invStd: r.invStd, gamma };
    return wrap(r.y, x.shape);
  }

  /**
   * The layer's weights: gamma and beta (null without `scale` / `center`) and the moving statistics.
   * Fused runs (src/model/fusion.ts) read them here.
   */
  bnWeights(): { gamma: Param | null; beta: Param | null; movingMean: Param; movingVariance: Param } {
    if (!this.movingMean || !this.movingVariance) throw new Error(`BatchNormalization '${this.name}': weights read before the layer was built`);
    return { gamma: this.gamma, beta: this.beta, movingMean: this.movingMean, movingVariance: this.movingVariance };
  }

  /** moving = moving·momentum + batch·(1 − momentum), from a training batch's mean and biased variance. */
  updateMovingStatistics(mean: Float32Array, variance: Float32Array): void {
    const m = this.momentum;
    const mm = this.movingMean!.value;
    const mv = this.movingVariance!.value;
    // On the device where the weights are device arrays (the gpu backend holds them).
    if (deviceState(mm) && deviceState(mv)) {
      deviceCombine(mm, mm, mean, m, 1 - m);
      deviceCombine(mv, mv, variance, m, 1 - m);
      return;
    }
    for (let i = 0; i < mm.length; i++) {
      mm[i] = mm[i] * m + mean[i] * (1 - m);
      mv[i] = mv[i] * m + variance[i] * (1 - m);
    }
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const saved = this.saved;
    if (!saved) throw this.noForward();
    this.saved = null;
    const c = this.channels();
    if ('frozen' in saved) {
      if (!needInputGrad) return null;
      const zeros = new Float32Array(c);
      return wrap(getBackend().batchNormInference(dy.values, saved.frozen, zeros, zeros, this.movingVariance!.value, c, this.epsilon), dy.shape);
    }
    const { xHat, invStd, gamma } = saved;
    const { dx, dGamma, dBeta } = getBackend().batchNormBackward(dy.values, xHat, gamma, invStd, c);
    if (this.gamma?.trainable) addInto(this.gamma.grad, dGamma);
    if (this.beta?.trainable) addInto(this.beta.grad, dBeta);
    return needInputGrad ? wrap(dx, dy.shape) : null;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: initializerName(this.inits.beta),
      gammaInitializer: initializerName(this.inits.gamma),
      movingMeanInitializer: initializerName(this.inits.movingMean),
      movingVarianceInitializer: initializerName(this.inits.movingVariance),
    };
  }
}
