import { checkOptionKeys } from '../util/options.js';
import { getInitializer, type Initializer, type InitializerName } from '../initializers.js';
import { getGlobalRandom, type Random } from '../util/random.js';
import { shapeSize, Tensor } from '../tensor.js';
import { Node, SymbolicTensor } from './symbolic.js';
import { Weight } from './weight.js';
import type { L1L2 } from '../train/regularizers.js';

/** A weight with its gradient. `grad` is accumulated into by `backward` (`+=`) and zeroed per step. */
export interface Param {
  readonly name: string;
  readonly shape: readonly number[];
  /**
   * The values. On a layer's weights every access counts as a possible write (src/layers/weight.ts):
   * write through `param.value` each time, not through an array kept from an earlier access.
   */
  value: Float32Array;
  /** Replaced only by the backend's `hold` (the model does, once per step): same length, same values. */
  grad: Float32Array;
  /** False for statistics (BatchNormalization's moving ones) and for every weight of a frozen layer. */
  trainable: boolean;
  readonly initializer: Initializer;
  /** Penalty added to the training loss (kernelRegularizer / biasRegularizer), if any. */
  readonly regularizer?: L1L2 | null;
}

/** What a forward pass needs besides the input. */
export interface ForwardContext {
  /** Training mode: dropout drops, batch normalization uses batch statistics and updates its moving ones. */
  training: boolean;
  /** Draws for dropout masks when a layer has no seed of its own. */
  rng: Random;
}

/** Options every layer accepts. */
export interface LayerConfig {
  /** Unique name; defaults to the snake_case class name with a counter (`conv2d_1`), as in Keras. */
  name?: string;
  /** Shape of one sample (no batch axis), on the first layer of a model only, e.g. `[100, 100, 3]`. */
  inputShape?: readonly number[];
  /** When false, the optimizer leaves this layer's weights alone. */
  trainable?: boolean;
}

const nameCounters = new Map<string, number>();

/** Weight values that layers built inside {@link withWeightBudget} may still allocate. */
let weightBudget = Infinity;

/**
 * Runs `fn` (which builds layers) allowing at most `values` weight values in all: a layer
 * asking for more throws before allocating. loadModel passes what the weights file holds, so
 * a model.json declaring a Dense layer of 5e6 units fails at once instead of allocating GBs.
 */
export function withWeightBudget<T>(values: number, fn: () => T): T {
  const previous = weightBudget;
  weightBudget = values;
  try {
    return fn();
  } finally {
    weightBudget = previous;
  }
}

function autoName(className: string): string {
  const base = className.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/2_d/g, '2d');
  const n = nameCounters.get(base) ?? 0;
  nameCounters.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

/** Formats a sample shape as Keras prints it, with the batch axis as None: `(None, 100, 100, 16)`. */
export function formatShape(shape: readonly number[]): string {
  return `(None, ${shape.join(', ')})`;
}

/**
 * Base of every layer. Lifecycle: `constructor(config)` validates → `build(inputShape)` creates
 * parameters once → `forward(x, ctx)` saves what backward needs (in training only) →
 * `backward(dy)` returns dx and adds into each parameter's `grad`.
 */
export abstract class Layer {
  abstract readonly className: string;
  readonly name: string;
  private isTrainable: boolean;
  /** Weights that are trainable while the layer is (not BatchNormalization's moving statistics). */
  private readonly learnable = new Set<Param>();
  /** The configured input shape (first layer only). */
  readonly configInputShape: readonly number[] | null;
  inputShape: readonly number[] | null = null;
  outputShape: readonly number[] | null = null;
  protected weights: Param[] = [];
  private initialized = false;

  constructor(config: LayerConfig = {}, className: string) {
    if (config.name !== undefined && (typeof config.name !== 'string' || config.name === '')) {
      throw new Error(`${className}: name must be a non-empty string, got ${JSON.stringify(config.name)}`);
    }
    this.name = config.name ?? autoName(className);
    if (config.trainable !== undefined && typeof config.trainable !== 'boolean') {
      throw new Error(`${className} '${this.name}': trainable must be true or false, got ${JSON.stringify(config.trainable)}`);
    }
    this.isTrainable = config.trainable ?? true;
    if (config.inputShape !== undefined) {
      if (!Array.isArray(config.inputShape) || config.inputShape.length === 0 || config.inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
        throw new Error(`${className} '${this.name}': inputShape must be positive integers (no batch axis), got ${JSON.stringify(config.inputShape)}`);
      }
    }
    this.configInputShape = config.inputShape ? [...config.inputShape] : null;
  }

  /**
   * When false the layer is frozen: the optimizer leaves its weights alone (they count as
   * non-trainable in `summary`), and BatchNormalization runs in inference mode even during `fit`
   * (Keras' fine-tuning semantics). Settable at any time; takes effect at the next step.
   *
   * @example
   * model.getLayer('conv2d').trainable = false;
   */
  get trainable(): boolean {
    return this.isTrainable;
  }

  set trainable(value: boolean) {
    if (typeof value !== 'boolean') throw new Error(`${this.className} '${this.name}': trainable must be true or false, got ${JSON.stringify(value)}`);
    this.isTrainable = value;
    for (const p of this.weights) p.trainable = value && this.learnable.has(p);
  }

  /** The calls of this layer in functional graphs, in call order (several for a shared layer). */
  readonly inboundNodes: Node[] = [];

  /**
   * What runs a further call of this layer when it is shared: an object whose prototype is the
   * layer, so it reads the same weights (Param objects: the calls' gradients add into one grad)
   * and configuration, while what its forward saves for backward stays apart from the other
   * calls'. Layers holding that state in helper objects give the callee its own ({@link ownCallState}).
   */
  makeCallee(): Layer {
    const callee = Object.create(this) as Layer;
    callee.ownCallState();
    return callee;
  }

  /** Replaces, on a callee made by {@link makeCallee}, the helper objects that hold a call's saved state. */
  protected ownCallState(): void {}

  /** True for the layers that merge several inputs (Add, Concatenate). */
  get takesSeveralInputs(): boolean {
    return false;
  }

  /** Builds the layer for the sample shapes of a call's inputs: one input, unless it merges several. */
  buildFor(shapes: readonly (readonly number[])[]): void {
    if (shapes.length !== 1) throw new Error(`${this.className} '${this.name}': takes one input, got ${shapes.length}`);
    if (this.configInputShape && this.configInputShape.join() !== shapes[0].join()) {
      throw new Error(`${this.className} '${this.name}': declares inputShape ${formatShape(this.configInputShape)} but is applied to ${formatShape(shapes[0])}`);
    }
    this.build(shapes[0]);
  }

  /** The forward of one call on its inputs (one, unless the layer merges several). */
  callForward(inputs: readonly Tensor[], ctx: ForwardContext): Tensor {
    return this.forward(inputs[0], ctx);
  }

  /** The backward of one call: a gradient per input (null where `needInputGrad` is false). */
  callBackward(dy: Tensor, needInputGrad: boolean): (Tensor | null)[] {
    return [this.backward(dy, needInputGrad)];
  }

  /**
   * Calls the layer. On symbolic tensors (from `input()` or another `apply`) it adds a node to
   * the functional graph, building the layer for their shapes, and returns the symbolic output;
   * a shape mismatch throws naming the layer and the shapes. On concrete tensors it builds the
   * layer, draws its weights if it has none, and runs it at once in inference mode, as TF.js does.
   * A layer applied several times is shared: every call uses the same weights (a siamese tower),
   * and training sums the calls' gradients.
   *
   * @example
   * const x = input({ shape: [28, 28, 1] });
   * const y = new layers.Conv2D({ filters: 8, kernelSize: 3 }).apply(x);
   */
  apply(inputs: SymbolicTensor | readonly SymbolicTensor[]): SymbolicTensor;
  apply(inputs: Tensor | readonly Tensor[]): Tensor;
  apply(inputs: SymbolicTensor | Tensor | readonly (SymbolicTensor | Tensor)[]): SymbolicTensor | Tensor {
    const list = Array.isArray(inputs) ? (inputs as readonly (SymbolicTensor | Tensor)[]) : [inputs as SymbolicTensor | Tensor];
    const owner = `${this.className} '${this.name}'.apply`;
    if (list.length > 0 && list.every((t) => t instanceof Tensor)) {
      const xs = list as Tensor[];
      if (xs.some((x) => x.rank < 2)) throw new Error(`${owner}: inputs need a batch axis, got shapes ${xs.map((x) => `[${x.shape.join(', ')}]`).join(', ')}`);
      this.buildFor(xs.map((x) => x.shape.slice(1)));
      this.initializeWeights(getGlobalRandom());
      return this.callForward(xs, { training: false, rng: getGlobalRandom() });
    }
    if (list.length === 0 || !list.every((t) => t instanceof SymbolicTensor)) {
      throw new Error(`${owner}: expected symbolic tensors (from input() or apply) or Tensors, got ${list.length === 0 ? 'none' : list.map((t) => (t instanceof SymbolicTensor ? 'SymbolicTensor' : t instanceof Tensor ? 'Tensor' : String(t))).join(', ')}`);
    }
    const symbolic = list as SymbolicTensor[];
    this.buildFor(symbolic.map((t) => t.sampleShape));
    const node = new Node(this, symbolic);
    node.output = new SymbolicTensor(this.outputShape!, node, this.name);
    this.inboundNodes.push(node);
    return node.output;
  }

  /** The symbolic output of this layer's call in a functional graph (of its only call: a shared layer has one per call, in `inboundNodes`). */
  get output(): SymbolicTensor {
    const node = this.inboundNodes[0];
    if (!node) throw new Error(`${this.className} '${this.name}': the layer has not been applied to a symbolic tensor, so it has no output`);
    if (this.inboundNodes.length > 1) throw new Error(`${this.className} '${this.name}': the layer is called ${this.inboundNodes.length} times, so it has several outputs; use inboundNodes[i].output`);
    return node.output;
  }

  /** Output sample shape for an input sample shape; throws naming the layer on a mismatch. Pure. */
  abstract computeOutputShape(inputShape: readonly number[]): number[];

  /** Creates the parameters for this input shape (once). */
  build(inputShape: readonly number[]): void {
    const out = this.computeOutputShape(inputShape);
    if (this.inputShape) {
      if (this.inputShape.join() !== inputShape.join()) {
        throw new Error(`${this.className} '${this.name}': already built for input ${formatShape(this.inputShape)}, cannot take ${formatShape(inputShape)}`);
      }
      return;
    }
    this.inputShape = [...inputShape];
    this.outputShape = out;
    this.createParams(inputShape);
  }

  /** Subclasses declare their weights here via `addWeight`. */
  protected createParams(_inputShape: readonly number[]): void {}

  protected addWeight(name: string, shape: number[], initializer: InitializerName | string | Initializer, trainable = true, regularizer: L1L2 | null = null): Param {
    const size = shapeSize(shape, `${this.className} '${this.name}': weight '${name}'`);
    if (size > weightBudget) {
      throw new Error(`${this.className} '${this.name}': weight '${name}' [${shape.join(', ')}] has ${size.toLocaleString('en-US')} values, more than the ${weightBudget.toLocaleString('en-US')} left in the weights file`);
    }
    weightBudget -= size;
    const param = new Weight(
      `${this.name}/${name}`, shape, new Float32Array(size), trainable && this.trainable,
      getInitializer(initializer, `${this.className} '${this.name}'`), regularizer,
    );
    if (trainable) this.learnable.add(param);
    this.weights.push(param);
    return param;
  }

  /** Draws initial values for every weight (once; later calls do nothing). */
  initializeWeights(rng: Random): void {
    if (this.initialized) return;
    for (const p of this.weights) p.value = p.initializer.init(p.shape, rng);
    this.initialized = true;
  }

  /** Marks the weights as set from outside (setWeights, a loaded model). */
  markInitialized(): void {
    this.initialized = true;
  }

  get isInitialized(): boolean {
    return this.initialized || this.weights.length === 0;
  }

  /** Runs the layer on a batch. */
  abstract forward(x: Tensor, ctx: ForwardContext): Tensor;

  /**
   * Back-propagates `dy` through the last training-mode forward: adds into each parameter's
   * `grad` and returns dx, or null when `needInputGrad` is false (the first layer of a model).
   */
  abstract backward(dy: Tensor, needInputGrad: boolean): Tensor | null;

  /** Every weight in Keras order, trainable or not. */
  params(): Param[] {
    return this.weights;
  }

  countParams(): { trainable: number; nonTrainable: number } {
    let trainable = 0;
    let nonTrainable = 0;
    for (const p of this.weights) {
      if (p.trainable) trainable += p.value.length;
      else nonTrainable += p.value.length;
    }
    return { trainable, nonTrainable };
  }

  /** The layer's configuration in tfjs-layers' camelCase form. */
  getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      trainable: this.trainable,
      ...(this.configInputShape ? { inputShape: [...this.configInputShape] } : {}),
    };
  }

  /** Error thrown when backward runs without a training-mode forward before it. */
  protected noForward(): Error {
    return new Error(`${this.className} '${this.name}': backward called without a training-mode forward`);
  }
}

/** Rejects config keys a layer does not know, naming the layer and the key. */
export function checkKeys(className: string, config: object, allowed: readonly string[]): void {
  checkOptionKeys(className, config, new Set([...allowed, 'name', 'inputShape', 'trainable']));
}
