import type { Tensor2D, Tensor4D } from '../tensor.js';

/** One batch: images `[batch, height, width, channels]` and labels. */
export interface Batch { x: Tensor4D; y: Tensor2D }                 // y: [batch, 1] for 'binary'/'int', [batch, classes] for 'categorical'

/**
 * A finite, re-iterable source of batches; what `model.fit`, `evaluate` and `predict` consume.
 *
 * @example
 * const ds = await imageDatasetFromDirectory('data', { imageSize: [64, 64], seed: 1 });
 * for await (const { x, y } of ds.batches({ epoch: 0 })) console.log(x.shape, y.shape);
 */
export interface Dataset {
  readonly size: number;          // number of samples
  readonly batchSize: number;
  readonly numBatches: number;
  readonly classNames: string[];
  readonly classCounts: Record<string, number>;
  batches(opts?: { epoch?: number }): AsyncIterable<Batch>; // reshuffles per epoch when shuffle is on (deterministic from seed+epoch)
}

/** How labels are encoded in `Batch.y`, as in Keras. */
export type LabelMode = 'binary' | 'int' | 'categorical';

/**
 * Writes the label rows of `labels` into `y`: one column (0/1 for 'binary', the class
 * index for 'int') or a one-hot row of `numClasses` for 'categorical'.
 */
export function encodeLabels(labels: ArrayLike<number>, labelMode: LabelMode, numClasses: number): { values: Float32Array; width: number } {
  const width = labelMode === 'categorical' ? numClasses : 1;
  const values = new Float32Array(labels.length * width);
  for (let i = 0; i < labels.length; i++) {
    if (labelMode === 'categorical') values[i * width + labels[i]] = 1;
    else values[i] = labels[i];
  }
  return { values, width };
}

/** Throws unless `labelMode` is known and fits the number of classes. */
export function checkLabelMode(fn: string, labelMode: LabelMode, classNames: readonly string[]): void {
  if (labelMode !== 'binary' && labelMode !== 'int' && labelMode !== 'categorical') {
    throw new Error(`${fn}: unknown labelMode '${String(labelMode)}'; expected 'binary', 'int' or 'categorical'`);
  }
  if (labelMode === 'binary' && classNames.length !== 2) {
    throw new Error(`${fn}: labelMode 'binary' needs exactly 2 classes, found ${classNames.length} (${classNames.join(', ')})`);
  }
}
