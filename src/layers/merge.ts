import { getBackend } from '../backend/index.js';
import { wrap, type Shape, type Tensor } from '../tensor.js';
import { checkKeys, formatShape, Layer, type ForwardContext, type LayerConfig } from './layer.js';

/** Base of the layers that merge several inputs of one batch into one output. */
abstract class MergeLayer extends Layer {
  /** The sample shapes of the inputs, once built. */
  inputShapes: readonly (readonly number[])[] | null = null;

  override get takesSeveralInputs(): boolean {
    return true;
  }

  /** Output sample shape for the inputs' sample shapes; throws naming the layer and the shapes. Pure. */
  abstract computeOutputShapeMany(shapes: readonly (readonly number[])[]): number[];

  computeOutputShape(inputShape: readonly number[]): number[] {
    return this.computeOutputShapeMany([inputShape]);
  }

  override buildFor(shapes: readonly (readonly number[])[]): void {
    const out = this.computeOutputShapeMany(shapes);
    if (this.inputShapes) {
      if (this.inputShapes.map((s) => s.join()).join('|') !== shapes.map((s) => s.join()).join('|')) {
        throw new Error(`${this.className} '${this.name}': already built for inputs ${this.inputShapes.map(formatShape).join(', ')}, cannot take ${shapes.map(formatShape).join(', ')}`);
      }
      return;
    }
    this.inputShapes = shapes.map((s) => [...s]);
    this.inputShape = [...shapes[0]];
    this.outputShape = out;
  }

  /** Needs at least two inputs. */
  protected checkCount(shapes: readonly (readonly number[])[]): void {
    if (shapes.length < 2) throw new Error(`${this.className} '${this.name}': needs at least 2 inputs, got ${shapes.length}`);
  }

  forward(): Tensor {
    throw new Error(`${this.className} '${this.name}': merges several inputs; call it through apply([a, b]) in a functional model`);
  }

  backward(): Tensor | null {
    throw new Error(`${this.className} '${this.name}': merges several inputs; its backward runs in a functional model`);
  }

  /** Checks that a call's batches have the built sample shapes and one batch size. */
  protected checkInputs(inputs: readonly Tensor[]): void {
    const want = this.inputShapes;
    const bad = !want || inputs.length !== want.length || inputs.some((x, i) => x.shape[0] !== inputs[0].shape[0] || x.shape.slice(1).join() !== want[i].join());
    if (bad) {
      throw new Error(`${this.className} '${this.name}': expects inputs ${want ? want.map(formatShape).join(', ') : '(not built)'}, got ${inputs.map((x) => `[${x.shape.join(', ')}]`).join(', ')}`);
    }
  }
}

/**
 * Sums its inputs element-wise (a residual connection). Every input must have the same shape;
 * the gradient flows unchanged to each.
 *
 * @example
 * const y = new layers.Add().apply([x, shortcut]);
 */
export class Add extends MergeLayer {
  readonly className = 'Add';

  constructor(config: LayerConfig = {}) {
    super(config, 'Add');
    checkKeys('Add', config, []);
  }

  computeOutputShapeMany(shapes: readonly (readonly number[])[]): number[] {
    this.checkCount(shapes);
    if (shapes.some((s) => s.join() !== shapes[0].join())) {
      throw new Error(`Add '${this.name}': inputs must have one shape, got ${shapes.map(formatShape).join(', ')}`);
    }
    return [...shapes[0]];
  }

  override callForward(inputs: readonly Tensor[], _ctx: ForwardContext): Tensor {
    this.checkInputs(inputs);
    const backend = getBackend();
    let y = backend.add(inputs[0].values, inputs[1].values);
    for (let i = 2; i < inputs.length; i++) y = backend.add(y, inputs[i].values);
    return wrap(y, inputs[0].shape);
  }

  override callBackward(dy: Tensor, needInputGrad: boolean): (Tensor | null)[] {
    return this.inputShapes!.map(() => (needInputGrad ? dy : null));
  }

  override getConfig(): Record<string, unknown> {
    return super.getConfig();
  }
}

/** Options of {@link Concatenate}. */
export interface ConcatenateConfig extends LayerConfig {
  /** The axis to join along, counting the batch axis as 0; negative counts from the end. Default -1 (channels). */
  axis?: number;
}

/**
 * Joins its inputs along `axis` (default -1, the channels). The other axes must agree; the
 * gradient is cut back into one slice per input.
 *
 * @example
 * const y = new layers.Concatenate({ axis: -1 }).apply([a, b]); // (None, 8, 8, 16) + (None, 8, 8, 8) → (None, 8, 8, 24)
 */
export class Concatenate extends MergeLayer {
  readonly className = 'Concatenate';
  readonly axis: number;

  constructor(config: ConcatenateConfig = {}) {
    super(config, 'Concatenate');
    checkKeys('Concatenate', config, ['axis']);
    this.axis = config.axis ?? -1;
    if (!Number.isInteger(this.axis)) throw new Error(`Concatenate '${this.name}': axis must be an integer, got ${JSON.stringify(config.axis)}`);
  }

  /** The joined axis as an index into sample shapes of rank `rank` (the batch axis excluded). */
  private sampleAxis(rank: number): number {
    const a = this.axis < 0 ? this.axis + rank + 1 : this.axis;
    if (a < 1 || a > rank) {
      throw new Error(`Concatenate '${this.name}': axis ${this.axis} is out of range for inputs of rank ${rank + 1}${a === 0 ? ' (the batch axis cannot be joined)' : ''}`);
    }
    return a - 1;
  }

  computeOutputShapeMany(shapes: readonly (readonly number[])[]): number[] {
    this.checkCount(shapes);
    const rank = shapes[0].length;
    if (shapes.some((s) => s.length !== rank)) throw new Error(`Concatenate '${this.name}': inputs must have one rank, got ${shapes.map(formatShape).join(', ')}`);
    const a = this.sampleAxis(rank);
    const other = (s: readonly number[]) => s.filter((_, i) => i !== a).join();
    if (shapes.some((s) => other(s) !== other(shapes[0]))) {
      throw new Error(`Concatenate '${this.name}': inputs must agree on every axis but axis ${this.axis}, got ${shapes.map(formatShape).join(', ')}`);
    }
    const out = [...shapes[0]];
    out[a] = shapes.reduce((sum, s) => sum + s[a], 0);
    return out;
  }

  /** The row count and each input's row width of the concatenation, for a batch of `batch`. */
  private layout(batch: number): { rows: number; widths: number[] } {
    const shapes = this.inputShapes!;
    const a = this.sampleAxis(shapes[0].length);
    const rows = batch * shapes[0].slice(0, a).reduce((p, d) => p * d, 1);
    return { rows, widths: shapes.map((s) => s.slice(a).reduce((p, d) => p * d, 1)) };
  }

  override callForward(inputs: readonly Tensor[], _ctx: ForwardContext): Tensor {
    this.checkInputs(inputs);
    const batch = inputs[0].shape[0]!;
    const { rows, widths } = this.layout(batch);
    const y = getBackend().concat(inputs.map((x) => x.values), rows, widths);
    return wrap(y, [batch, ...this.outputShape!] as unknown as Shape);
  }

  override callBackward(dy: Tensor, needInputGrad: boolean): (Tensor | null)[] {
    if (!needInputGrad) return this.inputShapes!.map(() => null);
    const batch = dy.shape[0]!;
    const { rows, widths } = this.layout(batch);
    return getBackend().concatBackward(dy.values, rows, widths).map((dx, i) => wrap(dx, [batch, ...this.inputShapes![i]] as unknown as Shape));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}
