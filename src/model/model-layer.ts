// A model used as a layer of another model (Keras' nested models: `outer = model({ inputs,
// outputs: base.apply(x) })`, or a model added to a Sequential). The outer model sees one layer
// named as the inner model, whose weights are the inner model's in its Keras order and whose
// trainable flag is the inner model's (`base.trainable = false` freezes every layer of it).
import { formatShape, Layer, type ForwardContext, type Param } from '../layers/layer.js';
import type { Tensor } from '../tensor.js';
import type { Random } from '../util/random.js';

/** What a ModelLayer needs of its model (LayersModel's side of the nesting). */
export interface NestedModel {
  readonly name: string;
  readonly layers: Layer[];
  readonly inputShapes: readonly (readonly number[])[];
  readonly outputShapes: readonly (readonly number[])[];
  /** 'Sequential' or 'Functional', the class_name the topology is saved under. */
  readonly topologyClass: string;
  trainable: boolean;
  params(): Param[];
  /** The forward of one call (training or inference); one tensor per input and per output. */
  runAsLayer(xs: readonly Tensor[], training: boolean, rng: Random): Tensor[];
  /** The backward of the last training call: adds into the weights' grads; returns a gradient per input when asked. */
  backAsLayer(dy: Tensor, needInputGrads: boolean): (Tensor | null)[];
  toKerasTopology(): { class_name: string; config: Record<string, unknown> };
}

/**
 * The layer a model becomes inside another model. Made by `model.apply(…)` (one per model: a model
 * is nested once; applying it to a second input is refused, since its layers hold one call's state).
 *
 * @example
 * const base = model({ inputs: x0, outputs: features });
 * base.trainable = false;
 * const y = new layers.Dense({ units: 2 }).apply(base.apply(input({ shape: [32, 32, 3] })));
 */
export class ModelLayer extends Layer {
  readonly className: string;

  constructor(readonly model: NestedModel) {
    super({ name: model.name }, model.topologyClass);
    this.className = model.topologyClass;
    if (model.outputShapes.length !== 1) {
      throw new Error(`${this.className} '${model.name}': a model with ${model.outputShapes.length} outputs cannot be used as a layer (one output only)`);
    }
    this.inputShape = model.inputShapes.length === 1 ? model.inputShapes[0] : null;
    this.outputShape = model.outputShapes[0];
  }

  override get trainable(): boolean {
    return this.model.trainable;
  }

  override set trainable(value: boolean) {
    this.model.trainable = value;
  }

  override get takesSeveralInputs(): boolean {
    return this.model.inputShapes.length > 1;
  }

  /** The Sequential holding this layer, if one does (a nested model is in one place only). */
  private inSequential: string | null = null;

  private alreadyUsed(): Error {
    return new Error(`${this.className} '${this.name}': the model is already used as a layer${this.inSequential ? ` in Sequential '${this.inSequential}'` : ''}; applying it a second time (sharing a nested model) is not supported`);
  }

  override makeCallee(): Layer {
    throw this.alreadyUsed();
  }

  /** Called by Sequential.add: the layer's one place. */
  addTo(sequential: string): void {
    if (this.inSequential || this.inboundNodes.length > 0) throw this.alreadyUsed();
    this.inSequential = sequential;
  }

  override buildFor(shapes: readonly (readonly number[])[]): void {
    if (this.inSequential) throw this.alreadyUsed();
    this.checkShapes(shapes);
  }

  private checkShapes(shapes: readonly (readonly number[])[]): void {
    const expected = this.model.inputShapes;
    if (shapes.length !== expected.length) throw new Error(`${this.className} '${this.name}': takes ${expected.length} input(s), got ${shapes.length}`);
    shapes.forEach((s, i) => {
      if (s.join() !== expected[i].join()) throw new Error(`${this.className} '${this.name}': input ${i} must be ${formatShape(expected[i])}, got ${formatShape(s)}`);
    });
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    this.checkShapes([inputShape]);
    return [...this.model.outputShapes[0]];
  }

  override build(inputShape: readonly number[]): void {
    this.checkShapes([inputShape]);
  }

  override params(): Param[] {
    return this.model.params();
  }

  override countParams(): { trainable: number; nonTrainable: number } {
    let trainable = 0;
    let nonTrainable = 0;
    for (const p of this.params()) {
      if (p.trainable) trainable += p.value.length;
      else nonTrainable += p.value.length;
    }
    return { trainable, nonTrainable };
  }

  override initializeWeights(rng: Random): void {
    for (const l of this.model.layers) l.initializeWeights(rng);
  }

  override markInitialized(): void {
    for (const l of this.model.layers) l.markInitialized();
  }

  override get isInitialized(): boolean {
    return this.model.layers.every((l) => l.isInitialized);
  }

  override callForward(inputs: readonly Tensor[], ctx: ForwardContext): Tensor {
    return this.model.runAsLayer(inputs, ctx.training, ctx.rng)[0];
  }

  override callBackward(dy: Tensor, needInputGrad: boolean): (Tensor | null)[] {
    return this.model.backAsLayer(dy, needInputGrad);
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    return this.callForward([x], ctx);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    return this.callBackward(dy, needInputGrad)[0];
  }

  /** The inner model's topology, as TF.js nests it: `{ class_name, config }` with the model's config. */
  override getConfig(): Record<string, unknown> {
    return { name: this.name, trainable: this.trainable };
  }
}
