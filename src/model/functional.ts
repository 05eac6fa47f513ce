// The functional Model (TF.js LayersModel, Keras Functional): a graph of layer calls from
// `input()` through `layer.apply` to the outputs. Layers run in Keras' `model.layers` order
// (deepest first, a topological order); linear runs of single-input layers with one consumer
// each run through the same fusion plans as Sequential (src/model/fusion.ts). Backward walks
// the order in reverse and sums the gradients where a tensor feeds several layers.
import { getBackend } from '../backend/index.js';
import { InputLayer } from '../layers/input-layer.js';
import { formatShape, Layer } from '../layers/layer.js';
import { nodesBetween, SymbolicTensor, type Node } from '../layers/symbolic.js';
import { wrap, type Tensor } from '../tensor.js';
import type { Doctor } from '../train/doctor/index.js';
import type { Random } from '../util/random.js';
import { planFusion, type FusionMode, type FusionUnit } from './fusion.js';
import { LayersModel, type Prediction } from './layers-model.js';
import { ModelLayer } from './model-layer.js';
import type { BatchDataset } from './data-args.js';
import type { ModelData } from './model-io.js';
import { functionalTopology } from '../io/functional-config.js';

/** Options of {@link Model} and {@link model}. */
export interface ModelConfig<O extends Outputs = Outputs> {
  /** The symbolic inputs (from `input()`): one, or a list in the order x is given. */
  inputs: SymbolicTensor | readonly SymbolicTensor[];
  /** The symbolic outputs: one, or a list in the order predict returns them and y is given. */
  outputs: O;
  name?: string;
}

/** A model's outputs: one symbolic tensor, or a list. */
type Outputs = SymbolicTensor | readonly SymbolicTensor[];

/** What predict resolves to: a tensor for a model built with one output tensor, else one tensor or a list (one per output). */
export type PredictionOf<O extends Outputs> = O extends SymbolicTensor ? Tensor : Prediction;

/** One step of a pass: a linear run of layer calls (as fusion units), or a merge of several tensors. */
interface GraphStep {
  /** The calls' callees (src/layers/symbolic.ts: a shared layer's further calls run on their own object). */
  readonly layers: readonly Layer[];
  readonly inputs: readonly SymbolicTensor[];
  readonly output: SymbolicTensor;
  /** The fusion units of a linear run; null for a merge layer's call. */
  readonly units: readonly FusionUnit[] | null;
}

/**
 * Keras' order of the calls and of `model.layers`: by depth from the outputs, deepest first
 * (a layer at the greatest depth of its calls); ties in discovery order from the outputs.
 */
function kerasOrder(outputs: readonly SymbolicTensor[]): { nodes: Node[]; layers: Layer[] } {
  const nodes = nodesBetween(outputs);
  const discovered = new Map<Layer, number>();
  const seen = new Set<Node>();
  const discover = (t: SymbolicTensor): void => {
    if (seen.has(t.node)) return;
    seen.add(t.node);
    if (!discovered.has(t.node.layer)) discovered.set(t.node.layer, discovered.size);
    for (const i of t.node.inputs) discover(i);
  };
  outputs.forEach(discover);
  const depth = new Map<Node, number>();
  for (const node of [...nodes].reverse()) {
    const d = depth.get(node) ?? 0;
    depth.set(node, d);
    for (const t of node.inputs) depth.set(t.node, Math.max(d + 1, depth.get(t.node) ?? 0));
  }
  const layerDepth = new Map<Layer, number>();
  for (const node of nodes) layerDepth.set(node.layer, Math.max(depth.get(node)!, layerDepth.get(node.layer) ?? 0));
  const byDepth = (a: Layer, b: Layer) => layerDepth.get(b)! - layerDepth.get(a)! || discovered.get(a)! - discovered.get(b)!;
  const ordered = nodes.sort((a, b) => depth.get(b)! - depth.get(a)! || discovered.get(a.layer)! - discovered.get(b.layer)! || a.nodeIndex - b.nodeIndex);
  return { nodes: ordered, layers: [...layerDepth.keys()].sort(byDepth) };
}

/**
 * A model made of layers called on symbolic tensors (TF.js' `tf.model`; Keras' Functional),
 * with everything Sequential has: compile, fit, evaluate, predict, trainOnBatch, summary (with
 * Keras' "Connected to" column), getWeights/setWeights in Keras order, save/loadModel. Several
 * inputs and outputs (x and y as lists in order or dicts by input/output layer name; predict
 * returns a list); shared layers (a layer applied several times: one set of weights, the calls'
 * gradients summed).
 *
 * @example
 * const x = input({ shape: [32, 32, 3] });
 * const h = new layers.Conv2D({ filters: 3, kernelSize: 3, padding: 'same' }).apply(x);
 * const y = new layers.Dense({ units: 10, activation: 'softmax' }).apply(new layers.GlobalAveragePooling2D().apply(new layers.Add().apply([x, h])));
 * const m = new Model({ inputs: x, outputs: y });
 */
export class Model<O extends Outputs = Outputs> extends LayersModel {
  readonly name: string;
  readonly topologyClass = 'Functional';
  readonly layers: Layer[];
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
  /** Every call in the model, in Keras' order (a shared layer has several). */
  readonly nodes: readonly Node[];
  private readonly consumers = new Map<SymbolicTensor, number>();
  private plan: { backend: unknown; fused: unknown; frozen: string; mode: FusionMode; steps: GraphStep[] }[] = [];

  constructor(config: ModelConfig<O>) {
    super();
    if (!config || typeof config !== 'object') throw new Error(`Model: expected { inputs, outputs }, got ${String(config)}`);
    for (const key of Object.keys(config)) {
      if (!['inputs', 'outputs', 'name'].includes(key)) throw new Error(`Model: unknown option '${key}' (expected inputs, outputs, name)`);
    }
    const list = (v: unknown, what: string): SymbolicTensor[] => {
      const arr = Array.isArray(v) ? v : [v];
      if (arr.length === 0 || !arr.every((t) => t instanceof SymbolicTensor)) {
        throw new Error(`Model: ${what} must be symbolic tensors (from input() or layer.apply), got ${arr.map((t) => (t instanceof SymbolicTensor ? 'SymbolicTensor' : String(t))).join(', ') || 'none'}`);
      }
      return arr as SymbolicTensor[];
    };
    this.inputs = list(config.inputs, 'inputs');
    this.outputs = list(config.outputs, 'outputs');
    if (config.name !== undefined && (typeof config.name !== 'string' || config.name === '')) throw new Error(`Model: name must be a non-empty string, got ${JSON.stringify(config.name)}`);
    this.name = config.name ?? 'model';
    this.inputs.forEach((t, i) => {
      if (!(t.node.layer instanceof InputLayer)) throw new Error(`Model: input '${t.name}' is the output of ${t.node.layer.className} '${t.node.layer.name}', not of input()`);
      if (this.inputs.indexOf(t) !== i) throw new Error(`Model: input '${t.name}' is listed twice among the inputs`);
    });
    const order = kerasOrder(this.outputs);
    this.nodes = order.nodes;
    for (const node of this.nodes) {
      if (node.layer instanceof InputLayer && !this.inputs.includes(node.output)) {
        throw new Error(`Model: the outputs depend on input '${node.layer.name}', which is not among the model's inputs (${this.inputs.map((t) => t.name).join(', ')})`);
      }
      for (const t of node.inputs) this.consumers.set(t, (this.consumers.get(t) ?? 0) + 1);
    }
    const names = new Set<string>();
    for (const layer of order.layers) {
      if (names.has(layer.name)) throw new Error(`Model: two layers are named '${layer.name}'; layer names must be unique`);
      names.add(layer.name);
    }
    for (const t of this.inputs) {
      if (!this.nodes.includes(t.node)) throw new Error(`Model: input '${t.name}' is not used by the outputs`);
    }
    this.layers = order.layers;
  }

  get inputShape(): readonly number[] {
    return this.inputs[0].sampleShape;
  }

  get outputShape(): readonly number[] {
    return this.outputs[0].sampleShape;
  }

  override get inputShapes(): readonly (readonly number[])[] {
    return this.inputs.map((t) => t.sampleShape);
  }

  override get outputShapes(): readonly (readonly number[])[] {
    return this.outputs.map((t) => t.sampleShape);
  }

  override get inputNames(): string[] {
    return this.inputs.map((t) => t.node.layer.name);
  }

  override get outputNames(): string[] {
    return this.outputs.map((t) => t.node.layer.name);
  }

  /**
   * Outputs for every sample: one tensor for a one-output model, a list in output order with several.
   *
   * @example
   * const [a, b] = (await twoOutputs.predict([x1, x2])) as Tensor[];
   */
  override async predict(x: ModelData | BatchDataset, args: { batchSize?: number } = {}): Promise<PredictionOf<O>> {
    return (await super.predict(x, args)) as PredictionOf<O>;
  }

  /** The pass's steps on the active backend: linear runs planned by src/model/fusion.ts, merges alone. */
  private steps(mode: FusionMode): GraphStep[] {
    const backend = getBackend();
    const frozen = this.layers.map((l) => (l.trainable ? 1 : 0)).join('');
    const hit = this.plan.find((p) => p.mode === mode && p.backend === backend && p.fused === backend.fused && p.frozen === frozen);
    if (hit) return hit.steps;
    const steps: GraphStep[] = [];
    const inRun = new Set<Node>();
    const single = (node: Node) => !(node.layer instanceof InputLayer) && !node.layer.takesSeveralInputs;
    for (const node of this.nodes) {
      if (inRun.has(node) || node.layer instanceof InputLayer) continue;
      if (!single(node)) {
        steps.push({ layers: [node.callee], inputs: node.inputs, output: node.output, units: null });
        continue;
      }
      // Extend the run while the current output feeds exactly one single-input call and is no model output.
      const run = [node];
      for (;;) {
        const out = run[run.length - 1].output;
        if (this.consumers.get(out) !== 1 || this.outputs.includes(out)) break;
        const next = this.nodes.find((n) => n.inputs.includes(out))!;
        if (!single(next)) break;
        run.push(next);
      }
      run.forEach((n) => inRun.add(n));
      const layers = run.map((n) => n.callee);
      steps.push({ layers, inputs: node.inputs, output: run[run.length - 1].output, units: planFusion(layers, backend, mode) });
    }
    this.plan = [...this.plan.filter((p) => p.mode !== mode), { backend, fused: backend.fused, frozen, mode, steps }];
    return steps;
  }

  /**
   * The fused ops each step of a pass calls (see Sequential.fusionPlan): per linear run of layers
   * its units; merge layers run alone (`op` null).
   *
   * @example
   * model.fusionPlan('training').map((u) => [u.layers.map((l) => l.name), u.op]);
   */
  fusionPlan(mode: FusionMode = 'training'): readonly { layers: readonly Layer[]; op: string | null }[] {
    return this.steps(mode).flatMap((s): { layers: readonly Layer[]; op: string | null }[] => (s.units ? [...s.units] : [{ layers: s.layers, op: null }]));
  }

  /**
   * Runs the steps on xs (one per input); returns every step's output (the arena of the caller
   * holds them). With `stopAt`, stops once that call's output is known: a fused run of layers
   * that holds it mid-way is planned again up to it (fusion keeps only a run's last output).
   */
  private run(xs: readonly Tensor[], mode: FusionMode, rng: Random, doctor?: Doctor | null, stopAt?: Node): Map<SymbolicTensor, Tensor> {
    const values = new Map<SymbolicTensor, Tensor>();
    this.inputs.forEach((t, i) => {
      const layer = t.node.layer as InputLayer;
      if (layer.batchSize !== null && xs[i].shape[0] !== layer.batchSize) {
        throw new Error(`Model '${this.name}': input '${layer.name}' has a fixed batch size of ${layer.batchSize} (input({ batchSize })), got a batch of ${xs[i].shape[0]}`);
      }
      values.set(t, layer.forward(xs[i]));
    });
    const ctx = { training: mode === 'training', rng };
    for (const step of this.steps(mode)) {
      const ins = step.inputs.map((t) => values.get(t)!);
      const at = stopAt && step.units ? step.layers.indexOf(stopAt.callee) : -1;
      let y: Tensor;
      if (step.units) {
        const units = at >= 0 && at < step.layers.length - 1 ? planFusion(step.layers.slice(0, at + 1), getBackend(), mode) : step.units;
        y = ins[0];
        for (const unit of units) {
          y = unit.forward(y, ctx);
          doctor?.afterUnit(unit.layers, y);
        }
      } else {
        y = step.layers[0].callForward(ins, ctx);
        doctor?.afterUnit(step.layers, y);
      }
      values.set(at >= 0 ? stopAt!.output : step.output, y);
      if (at >= 0 || (stopAt && step.output === stopAt.output)) break;
    }
    return values;
  }

  protected forward(xs: readonly Tensor[], rng: Random): Tensor[] {
    this.holdWeights(false);
    const values = this.run(xs, 'inference', rng);
    return this.outputs.map((t) => values.get(t)!);
  }

  protected forwardPrefix(layers: readonly Layer[], x: Tensor): Tensor {
    const last = layers[layers.length - 1];
    const node = this.nodes.find((n) => n.layer === last);
    if (!node) throw new Error(`Model '${this.name}': layer '${last?.name}' is not in the model`);
    return this.run([x], 'inference', this.rng, null, node).get(node.output)!;
  }

  protected trainForward(xs: readonly Tensor[], rng: Random, doctor: Doctor | null | undefined): Tensor[] {
    const values = this.run(xs, 'training', rng, doctor);
    return this.outputs.map((t) => values.get(t)!);
  }

  protected backward(dys: readonly Tensor[], needInputGrads: boolean): (Tensor | null)[] {
    const backend = getBackend();
    const grads = new Map<SymbolicTensor, Tensor>();
    const needs = (t: SymbolicTensor) => needInputGrads || !(t.node.layer instanceof InputLayer);
    const accumulate = (t: SymbolicTensor, g: Tensor | null): void => {
      if (!g || !needs(t)) return;
      const prev = grads.get(t);
      grads.set(t, prev ? wrap(backend.add(prev.values, g.values), g.shape) : g);
    };
    this.outputs.forEach((t, i) => accumulate(t, dys[i]));
    const steps = this.steps('training');
    for (let s = steps.length - 1; s >= 0; s--) {
      const step = steps[s];
      const g = grads.get(step.output);
      if (!g) continue;
      if (step.units) {
        let h: Tensor | null = g;
        for (let i = step.units.length - 1; i >= 0 && h; i--) h = step.units[i].backward(h, i > 0 || needs(step.inputs[0]));
        accumulate(step.inputs[0], h);
      } else {
        const dxs = step.layers[0].callBackward(g, step.inputs.some(needs));
        step.inputs.forEach((t, i) => accumulate(t, dxs[i]));
      }
    }
    return this.inputs.map((t) => (needInputGrads ? grads.get(t) ?? null : null));
  }

  /** One row per layer, as Keras: every call's inputs in "Connected to" as `layer[node][tensor]`; "multiple" shapes for a shared layer whose calls differ. */
  protected summaryRows(): { header: string[]; rows: string[][] } {
    const rows = this.layers.map((l) => {
      const { trainable, nonTrainable } = l.countParams();
      const calls = this.nodes.filter((n) => n.layer === l);
      const shapes = new Set(calls.map((n) => formatShape(n.output.sampleShape)));
      const connected = calls.flatMap((n) => n.inputs.map((t) => `${t.node.layer.name}[${this.nodeIndex(t.node)}][0]`)).join('\n');
      return [`${l.name} (${l.className})`, shapes.size === 1 ? [...shapes][0] : 'multiple', (trainable + nonTrainable).toLocaleString('en-US'), connected];
    });
    return { header: ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'], rows };
  }

  /** A call's index among its layer's calls in this model (Keras renumbers the calls a model holds). */
  nodeIndex(node: Node): number {
    return node.layer.inboundNodes.filter((n) => this.nodes.includes(n)).indexOf(node);
  }

  toKerasTopology(): { class_name: string; config: Record<string, unknown> } {
    // Keras and TF.js count a nested model's own graph as its node 0: its call in this model is node 1.
    return functionalTopology(this.name, this.layers, this.nodes, this.inputs, this.outputs, (n) => this.nodeIndex(n) + (n.layer instanceof ModelLayer ? 1 : 0));
  }
}

/**
 * A functional model from its symbolic inputs and outputs (TF.js `tf.model`).
 *
 * @example
 * const x = input({ shape: [4] });
 * const m = model({ inputs: x, outputs: new layers.Dense({ units: 1 }).apply(x) });
 */
export function model<O extends Outputs>(config: ModelConfig<O>): Model<O> {
  return new Model(config);
}
