// Checks on the loss curves: not-learning and overfitting.
import { lossThirds } from './updates.js';
import { num, type Diagnostic } from './types.js';

/**
 * not-learning: the mean batch loss of the epoch's last third is at least this fraction of the
 * constant predictor's loss (always answering the class frequencies, or the mean target). The
 * last third, not the epoch mean, so that a model that starts above the baseline and falls
 * through it within the epoch is not reported.
 */
export const NOT_LEARNING_RATIO = 0.99;
/**
 * not-learning is not raised while the loss is clearly falling: the last third of the epoch at
 * least this fraction below the first third. A model that starts slowly (the example with Adam
 * 1e-3 ends its first epoch just above the baseline, falling by about a fifth within it) is
 * learning; the seed's SGD 1e-4 moves by a few per cent of Dropout noise.
 */
export const FALLING = 0.1;
/** overfitting: validation loss above its best for this many epochs in a row … */
export const OVERFIT_EPOCHS = 3;
/** … and at least this fraction above the best, while the training loss is below its value at the best epoch. */
export const OVERFIT_RISE = 0.05;

/** not-learning at the end of an epoch. */
export function checkNotLearning(losses: readonly number[], baseline: number, epoch: number): Diagnostic | null {
  if (!(baseline > 0) || losses.length === 0) return null;
  const { first, last } = lossThirds(losses);
  if (!(last >= NOT_LEARNING_RATIO * baseline) || (first > 0 && (first - last) / first >= FALLING)) return null;
  return {
    code: 'not-learning',
    epoch,
    message:
      `the training loss at the end of the epoch (${num(last)}, mean of its last third; ${num(first)} in its first third) is no better than ${num(baseline)}, the loss of always predicting the class frequencies ` +
      `(or the mean target): the model has learned nothing yet. Check the learning rate (see lr-too-low), that inputs are scaled (e.g. rescale 1/255), and that labels match the inputs.`,
  };
}

/** overfitting, from the epoch losses so far (`loss[i]`, `valLoss[i]` of epoch i of this fit). */
export function checkOverfitting(loss: readonly number[], valLoss: readonly number[], epoch: number): Diagnostic | null {
  const e = valLoss.length - 1;
  if (e < OVERFIT_EPOCHS) return null;
  let best = 0;
  for (let i = 1; i <= e; i++) if (valLoss[i] < valLoss[best]) best = i;
  if (e - best < OVERFIT_EPOCHS) return null;
  for (let i = best + 1; i <= e; i++) if (!(valLoss[i] > valLoss[best])) return null;
  if (!(valLoss[e] >= (1 + OVERFIT_RISE) * valLoss[best]) || !(loss[e] < loss[best])) return null;
  return {
    code: 'overfitting',
    epoch,
    message:
      `validation loss has risen for ${e - best} epochs (best ${num(valLoss[best])} at epoch ${epoch - (e - best) + 1}, now ${num(valLoss[e])}) while the training loss kept falling ` +
      `(${num(loss[best])} → ${num(loss[e])}): the model is memorising the training data. Use callbacks: [new EarlyStopping({ monitor: 'val_loss', patience: ${OVERFIT_EPOCHS}, restoreBestWeights: true })], ` +
      `more data or augmentation (RandomFlip, RandomTranslation), or more Dropout.`,
  };
}
