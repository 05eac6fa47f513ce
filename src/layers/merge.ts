// The merge layers: element-wise ones (Add, Subtract, Multiply, Average, Maximum, Minimum: inputs of
// one shape, no broadcasting) and Concatenate. Element-wise merges of several inputs fold left to
// right as tfjs-layers does (((x0 ∘ x1) ∘ x2) …), and their backward unfolds that chain, so ties of
// Maximum / Minimum send the gradient to the earliest input, as TF's gradients do.
import { getBackend } from '../backend/index.js';
import type { ExtremumKind } from '../backend/types.js';
import { wrap, type Shape, type Tensor } from '../tensor.js';
import { checkKeys, formatShape, Layer, type ForwardContext, type LayerConfig } from './layer.js';

/** Base of the layers that merge several inputs of one batch into one output. */
export abstract class MergeLayer extends Layer {
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

/** Base of the merges whose inputs all have one shape and combine element by element. */
abstract class ElementwiseMerge extends MergeLayer {
  /** The fewest and most inputs the layer takes (Subtract: exactly 2). */
  protected readonly arity: [number, number] = [2, Infinity];

  computeOutputShapeMany(shapes: readonly (readonly number[])[]): number[] {
    const [lo, hi] = this.arity;
    if (shapes.length < lo || shapes.length > hi) {
      throw new Error(`${this.className} '${this.name}': needs ${lo === hi ? `exactly ${lo}` : `at least ${lo}`} inputs, got ${shapes.length}`);
    }
    if (shapes.some((s) => s.join() !== shapes[0].join())) {
      throw new Error(`${this.className} '${this.name}': inputs must have one shape, got ${shapes.map(formatShape).join(', ')}`);
    }
    return [...shapes[0]];
  }

  /** y for the inputs' values (all of one length); saves what {@link unmerge} needs. */
  protected abstract merge(xs: readonly Float32Array[]): Float32Array;

  /** Each input's gradient (null where none is needed) from dy, through the last {@link merge}. */
  protected abstract unmerge(dy: Float32Array): Float32Array[];

  override callForward(inputs: readonly Tensor[], _ctx: ForwardContext): Tensor {
    this.checkInputs(inputs);
    return wrap(this.merge(inputs.map((x) => x.values)), inputs[0].shape);
  }

  override callBackward(dy: Tensor, needInputGrad: boolean): (Tensor | null)[] {
    if (!needInputGrad) return this.inputShapes!.map(() => null);
    return this.unmerge(dy.values).map((dx) => wrap(dx, dy.shape));
  }
}

/**
 * Sums its inputs element-wise (a residual connection). Every input must have the same shape;
 * the gradient flows unchanged to each.
 *
 * @example
 * const y = new layers.Add().apply([x, shortcut]);
 */
export class Add extends ElementwiseMerge {
  readonly className = 'Add';

  constructor(config: LayerConfig = {}) {
    super(config, 'Add');
    checkKeys('Add', config, []);
  }

  protected merge(xs: readonly Float32Array[]): Float32Array {
    const backend = getBackend();
    let y = backend.add(xs[0], xs[1]);
    for (let i = 2; i < xs.length; i++) y = backend.add(y, xs[i]);
    return y;
  }

  protected unmerge(dy: Float32Array): Float32Array[] {
    return this.inputShapes!.map(() => dy);
  }
}

/**
 * x0 − x1 element-wise, for exactly two inputs of one shape (Keras' `Subtract`; TF.js has no
 * such layer). dx0 = dy, dx1 = −dy.
 *
 * @example
 * const diff = new layers.Subtract().apply([a, b]);
 */
export class Subtract extends ElementwiseMerge {
  readonly className = 'Subtract';
  protected override readonly arity: [number, number] = [2, 2];

  constructor(config: LayerConfig = {}) {
    super(config, 'Subtract');
    checkKeys('Subtract', config, []);
  }

  protected merge(xs: readonly Float32Array[]): Float32Array {
    return getBackend().combine(xs[0], xs[1], 1, -1);
  }

  protected unmerge(dy: Float32Array): Float32Array[] {
    return [dy, getBackend().combine(dy, dy, -1, 0)];
  }
}

/**
 * The element-wise product of its inputs (Keras' and TF.js' `Multiply`), e.g. a gate or an
 * attention mask. dxᵢ = dy · Πⱼ≠ᵢ xⱼ.
 *
 * @example
 * const gated = new layers.Multiply().apply([features, gate]);
 */
export class Multiply extends ElementwiseMerge {
  readonly className = 'Multiply';
  /** The inputs and the running products x0, x0·x1, … of the last forward. */
  private saved: { xs: readonly Float32Array[]; products: Float32Array[] } | null = null;

  constructor(config: LayerConfig = {}) {
    super(config, 'Multiply');
    checkKeys('Multiply', config, []);
  }

  protected merge(xs: readonly Float32Array[]): Float32Array {
    const backend = getBackend();
    const products = [xs[0]];
    for (let i = 1; i < xs.length; i++) products.push(backend.multiply(products[i - 1], xs[i]));
    this.saved = { xs, products };
    return products[products.length - 1];
  }

  protected unmerge(dy: Float32Array): Float32Array[] {
    const { xs, products } = this.saved!;
    const backend = getBackend();
    const dxs: Float32Array[] = new Array(xs.length);
    let g = dy;
    for (let i = xs.length - 1; i >= 1; i--) {
      dxs[i] = backend.multiply(g, products[i - 1]);
      g = backend.multiply(g, xs[i]);
    }
    dxs[0] = g;
    return dxs;
  }
}

/**
 * The element-wise mean of its inputs (Keras' and TF.js' `Average`): (x0 + … + xₙ₋₁)·(1/n);
 * each input gets dy/n.
 *
 * @example
 * const ensemble = new layers.Average().apply([headA, headB, headC]);
 */
export class Average extends ElementwiseMerge {
  readonly className = 'Average';

  constructor(config: LayerConfig = {}) {
    super(config, 'Average');
    checkKeys('Average', config, []);
  }

  protected merge(xs: readonly Float32Array[]): Float32Array {
    const backend = getBackend();
    let sum = backend.add(xs[0], xs[1]);
    for (let i = 2; i < xs.length; i++) sum = backend.add(sum, xs[i]);
    return backend.combine(sum, sum, 1 / xs.length, 0);
  }

  protected unmerge(dy: Float32Array): Float32Array[] {
    const n = this.inputShapes!.length;
    const dx = getBackend().combine(dy, dy, 1 / n, 0);
    return this.inputShapes!.map(() => dx);
  }
}

/** Maximum and Minimum: a left fold of max or min, the gradient unfolded back along it. */
abstract class ExtremumMerge extends ElementwiseMerge {
  protected abstract readonly kind: ExtremumKind;
  /** The inputs and the running extrema of the last forward. */
  private saved: { xs: readonly Float32Array[]; partial: Float32Array[] } | null = null;

  protected merge(xs: readonly Float32Array[]): Float32Array {
    const backend = getBackend();
    const partial = [xs[0]];
    for (let i = 1; i < xs.length; i++) partial.push(backend.extremum(this.kind, partial[i - 1], xs[i]));
    this.saved = { xs, partial };
    return partial[partial.length - 1];
  }

  protected unmerge(dy: Float32Array): Float32Array[] {
    const { xs, partial } = this.saved!;
    const backend = getBackend();
    const dxs: Float32Array[] = new Array(xs.length);
    let g = dy;
    for (let i = xs.length - 1; i >= 1; i--) {
      const { da, db } = backend.extremumBackward(this.kind, g, partial[i - 1], xs[i]);
      dxs[i] = db;
      g = da;
    }
    dxs[0] = g;
    return dxs;
  }
}

/**
 * The element-wise maximum of its inputs (Keras' and TF.js' `Maximum`). The gradient goes to the
 * input holding the maximum; on ties, to the earliest such input (TF's maximum gradient).
 *
 * @example
 * const y = new layers.Maximum().apply([a, b]);
 */
export class Maximum extends ExtremumMerge {
  readonly className = 'Maximum';
  protected readonly kind = 'max';

  constructor(config: LayerConfig = {}) {
    super(config, 'Maximum');
    checkKeys('Maximum', config, []);
  }
}

/**
 * The element-wise minimum of its inputs (Keras' and TF.js' `Minimum`); ties send the gradient
 * to the earliest input holding the minimum.
 *
 * @example
 * const y = new layers.Minimum().apply([a, b]);
 */
export class Minimum extends ExtremumMerge {
  readonly className = 'Minimum';
  protected readonly kind = 'min';

  constructor(config: LayerConfig = {}) {
    super(config, 'Minimum');
    checkKeys('Minimum', config, []);
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
