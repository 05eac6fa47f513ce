// Checks on activations: dead-units (ReLU outputs) and bn-statistics (BatchNormalization's
// moving statistics against the statistics of the data it normalizes at inference).
import { BatchNormalization } from '../../layers/batch-normalization.js';
import type { Layer } from '../../layers/layer.js';
import { MaxPooling2D } from '../../layers/max-pooling2d.js';
import type { Tensor } from '../../tensor.js';
import { median, num, type Diagnostic } from './types.js';

/** dead-units: a unit (channel or neuron) is dead when it is positive for under this share of the sampled inputs of an epoch. */
export const DEAD_FIRING = 0.01;
/** dead-units: a ReLU layer is reported when at least this share of its units are dead. */
export const DEAD_SHARE = 0.5;
/**
 * Inputs sampled per step for dead-units: the first rows of each (shuffled) batch. A conv unit
 * counts as firing for an input when any of its positions is positive.
 */
export const DEAD_SAMPLES_PER_STEP = 2;
/** dead-units: counts carry over into the next epoch until a layer has this many sampled inputs, so a short epoch is not judged on a handful. */
export const DEAD_MIN_INPUTS = 48;
/**
 * bn-statistics: the median over channels of |moving mean − batch mean| / batch standard deviation
 * at or above this, where the batch statistics are those of the layer's input in inference mode
 * (what the moving statistics stand in for at validation and predict) on a sample of the last
 * training batch. One standard deviation off shifts every normalized value by about 1.
 */
export const BN_MEAN_SHIFT = 1;
/** bn-statistics: or the median ratio of moving to batch variance beyond this factor either way. */
export const BN_VAR_RATIO = 4;
/** Samples of the last training batch the bn-statistics check runs in inference mode. */
export const BN_SAMPLES = 16;

function isRelu(layer: Layer): boolean {
  return (layer.getConfig() as { activation?: unknown }).activation === 'relu';
}

/** Counts, per ReLU layer and unit, how many sampled inputs made the unit positive. */
export class DeadUnitMonitor {
  /** Name of the ReLU layer a training unit (keyed by its first layer) ends with, or null. */
  private readonly reluOf = new Map<Layer, string | null>();
  private fired = new Map<string, { counts: Float64Array; inputs: number }>();

  // A max pool after the ReLU keeps a unit's zero-or-not per input (the max of zeros is zero), so
  // the pooled output of a fused Conv2D/BN → ReLU → pool run serves as well as the ReLU's own.
  private reluLayer(unitLayers: readonly Layer[]): string | null {
    const key = unitLayers[0];
    let name = this.reluOf.get(key);
    if (name === undefined) {
      name = null;
      for (let i = unitLayers.length - 1; i >= 0; i--) {
        if (isRelu(unitLayers[i])) {
          name = unitLayers[i].name;
          break;
        }
        if (!(unitLayers[i] instanceof MaxPooling2D)) break;
      }
      this.reluOf.set(key, name);
    }
    return name;
  }

  /** Records the output `[batch, …, units]` of a training unit (ignored unless it ends in a ReLU). */
  observe(unitLayers: readonly Layer[], out: Tensor): void {
    const name = this.reluLayer(unitLayers);
    if (!name) return;
    const batch = out.shape[0]!;
    const units = out.shape[out.rank - 1]!;
    const row = batch ? out.size / batch : 0;
    let entry = this.fired.get(name);
    if (!entry) this.fired.set(name, (entry = { counts: new Float64Array(units), inputs: 0 }));
    const v = out.values;
    const seen = new Uint8Array(units);
    for (let s = 0; s < Math.min(batch, DEAD_SAMPLES_PER_STEP); s++) {
      seen.fill(0);
      for (let i = s * row; i < (s + 1) * row; i += units) {
        for (let u = 0; u < units; u++) if (v[i + u] > 0) seen[u] = 1;
      }
      for (let u = 0; u < units; u++) entry.counts[u] += seen[u];
      entry.inputs++;
    }
  }

  /** dead-units for the epoch that ends; forgets the counts of each layer it judged. */
  check(epoch: number): Diagnostic[] {
    const out: Diagnostic[] = [];
    for (const [layer, { counts, inputs }] of this.fired) {
      if (inputs < DEAD_MIN_INPUTS) continue;
      this.fired.delete(layer);
      let dead = 0;
      for (const c of counts) if (c < DEAD_FIRING * inputs) dead++;
      if (dead < DEAD_SHARE * counts.length) continue;
      out.push({
        code: 'dead-units',
        epoch,
        layer,
        message:
          `${dead} of the ${counts.length} units of ReLU layer '${layer}' were zero for ${DEAD_FIRING === 0.01 ? 'over 99 %' : `over ${100 - 100 * DEAD_FIRING} %`} of ${inputs} sampled inputs this epoch: ` +
          `they pass no gradient and have stopped learning. Usual causes: a learning rate too high (weights pushed negative), large negative biases, unscaled inputs. ` +
          `Lower the learning rate, or use leakyRelu / elu.`,
      });
    }
    return out;
  }
}

function paramValue(layer: Layer, suffix: string): Float32Array | null {
  return layer.params().find((p) => p.name.endsWith(suffix))?.value ?? null;
}

/**
 * bn-statistics: runs `infer(layers[0..i), x)` in inference mode up to each BatchNormalization
 * layer `i` and compares its moving statistics with those of its input there.
 */
export function checkBatchNormStatistics(layers: readonly Layer[], x: Tensor, epoch: number, infer: (prefix: readonly Layer[], x: Tensor) => Tensor): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (let i = 0; i < layers.length; i++) {
    const bn = layers[i];
    if (!(bn instanceof BatchNormalization) || (bn.axis !== -1 && bn.axis !== bn.inputShape!.length)) continue;
    const mm = paramValue(bn, '/moving_mean');
    const mv = paramValue(bn, '/moving_variance');
    if (!mm || !mv) continue;
    const h = infer(layers.slice(0, i), x);
    const c = mm.length;
    const rows = h.size / c;
    const sum = new Float64Array(c);
    const sq = new Float64Array(c);
    const v = h.values;
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < c; k++) {
        const a = v[r * c + k];
        sum[k] += a;
        sq[k] += a * a;
      }
    }
    const shifts: number[] = [];
    const ratios: number[] = [];
    for (let k = 0; k < c; k++) {
      const mean = sum[k] / rows;
      const variance = Math.max(0, sq[k] / rows - mean * mean);
      shifts.push(Math.abs(mm[k] - mean) / Math.sqrt(variance + bn.epsilon));
      ratios.push((mv[k] + bn.epsilon) / (variance + bn.epsilon));
    }
    const shift = median(shifts);
    const ratio = median(ratios);
    if (!(shift >= BN_MEAN_SHIFT || ratio >= BN_VAR_RATIO || ratio <= 1 / BN_VAR_RATIO)) continue;
    out.push({
      code: 'bn-statistics',
      epoch,
      layer: bn.name,
      message:
        `the moving statistics of '${bn.name}' are far from those of its input at inference (${rows} values per channel from the last training batch): ` +
        `the moving mean is a median ${num(shift)} standard deviations off (threshold ${BN_MEAN_SHIFT}) and the moving variance ${num(ratio)}× the batch variance ` +
        `(threshold ${BN_VAR_RATIO}× either way), so validation and predict normalize differently from training. They catch up at rate 1 − momentum (${num(1 - bn.momentum)}) per step: ` +
        `train longer, lower the momentum (e.g. 0.9), and put Dropout after BatchNormalization, not before it.`,
    });
  }
  return out;
}
