import type { Tensor } from '../tensor.js';
import { checkKeys, formatShape, Layer } from './layer.js';
import { Node, SymbolicTensor } from './symbolic.js';

/** Options of {@link input}. */
export interface InputConfig {
  /** Shape of one sample, without the batch axis, e.g. `[100, 100, 3]`. */
  shape: readonly number[];
  name?: string;
  /** A fixed batch size, written into the saved `batch_input_shape` (batches of other sizes still run). */
  batchSize?: number;
}

/**
 * The entry of a functional model: passes its batch on unchanged. Made by {@link input}; listed
 * first in `model.layers`, as in Keras.
 */
export class InputLayer extends Layer {
  readonly className = 'InputLayer';
  readonly batchSize: number | null;

  constructor(config: InputConfig) {
    if (!config || typeof config !== 'object') throw new Error(`input: expected { shape }, got ${String(config)}`);
    super({ name: config.name ?? undefined, inputShape: config.shape }, 'InputLayer');
    checkKeys('InputLayer', config, ['shape', 'batchSize']);
    if (!config.shape) throw new Error(`input: shape is required (the sample shape without the batch axis, e.g. [100, 100, 3])`);
    if (config.batchSize !== undefined && !(Number.isInteger(config.batchSize) && config.batchSize > 0)) {
      throw new Error(`input: batchSize must be a positive integer, got ${JSON.stringify(config.batchSize)}`);
    }
    this.batchSize = config.batchSize ?? null;
    this.build(config.shape);
    const node = new Node(this, []);
    node.output = new SymbolicTensor(config.shape, node, this.name);
    this.inboundNodes.push(node);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  forward(x: Tensor): Tensor {
    if (x.shape.slice(1).join() !== this.inputShape!.join()) {
      throw new Error(`InputLayer '${this.name}': expects ${formatShape(this.inputShape!)}, got [${x.shape.join(', ')}]`);
    }
    return x;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    return needInputGrad ? dy : null;
  }

  override getConfig(): Record<string, unknown> {
    return { name: this.name, batchInputShape: [this.batchSize, ...this.inputShape!] };
  }
}

/**
 * A symbolic input of a functional model (TF.js `tf.input`).
 *
 * @example
 * const x = input({ shape: [100, 100, 3] });
 * const y = new layers.Dense({ units: 1 }).apply(new layers.Flatten().apply(x));
 * const m = model({ inputs: x, outputs: y });
 */
export function input(config: InputConfig): SymbolicTensor {
  return new InputLayer(config).output;
}
