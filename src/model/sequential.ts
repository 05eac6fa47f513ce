import { getBackend } from '../backend/index.js';
import { FusionPlans, planFusion, type FusionMode, type FusionUnit } from './fusion.js';
import { formatShape, Layer } from '../layers/layer.js';
import { layerToKeras } from '../io/layer-config.js';
import type { Random } from '../util/random.js';
import type { Tensor } from '../tensor.js';
import type { Doctor } from '../train/doctor/index.js';
import { LayersModel } from './layers-model.js';
import { ModelLayer } from './model-layer.js';
import type { BatchDataset } from './data-args.js';
import type { ModelData } from './model-io.js';
import { checkOptionKeys } from '../util/options.js';

export { History, type BatchDataset, type CompileArgs, type DataBatch, type FitArgs, type MultiDataBatch } from './data-args.js';
export type { ClassWeight } from '../train/label-checks.js';

/**
 * A linear stack of layers with Keras' `add` / `compile` / `fit` / `evaluate` / `predict`.
 *
 * @example
 * const model = new Sequential();
 * model.add(new layers.Dense({ units: 1, activation: 'sigmoid', inputShape: [4] }));
 * model.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'binaryCrossentropy', metrics: ['precision'] });
 * const history = await model.fit(x, y, { epochs: 5, batchSize: 32 });
 */
export class Sequential extends LayersModel {
  readonly name: string;
  readonly topologyClass = 'Sequential';
  readonly layers: Layer[] = [];
  private plans = new FusionPlans();

  constructor(config: { name?: string; layers?: (Layer | LayersModel)[] } = {}) {
    super();
    if (Array.isArray(config) || typeof config !== 'object' || config === null) {
      throw new Error(`Sequential: the constructor takes { layers: [...], name }, got ${Array.isArray(config) ? 'an array' : String(config)}`);
    }
    checkOptionKeys('Sequential', config, ['name', 'layers']);
    if (config.layers !== undefined && !Array.isArray(config.layers)) throw new Error(`Sequential: layers must be an array of layers, got ${typeof config.layers}`);
    this.name = config.name ?? 'sequential';
    for (const layer of config.layers ?? []) this.add(layer);
  }

  /** Sample shape the model takes, without the batch axis. */
  get inputShape(): readonly number[] {
    const first = this.layers[0];
    if (!first?.inputShape) throw new Error(`Sequential '${this.name}': the model has no layers yet`);
    return first.inputShape;
  }

  /** Sample shape the model returns, without the batch axis. */
  get outputShape(): readonly number[] {
    const last = this.layers[this.layers.length - 1];
    if (!last?.outputShape) throw new Error(`Sequential '${this.name}': the model has no layers yet`);
    return last.outputShape;
  }

  /**
   * Appends a layer, inferring its input shape from the previous layer and building it. A
   * mismatch throws here, naming the layer and both shapes; the model is left as it was.
   */
  add(layerOrModel: Layer | LayersModel): void {
    const layer = layerOrModel instanceof LayersModel ? layerOrModel.layer() : layerOrModel;
    if (!(layer instanceof Layer)) throw new Error(`Sequential.add: expected a layer, got ${String(layer)}`);
    if (this.layers.includes(layer)) throw new Error(`Sequential.add: layer '${layer.name}' is already in the model`);
    if (this.layers.some((l) => l.name === layer.name)) throw new Error(`Sequential.add: a layer named '${layer.name}' is already in the model`);
    if (layer.takesSeveralInputs) throw new Error(`Sequential.add: ${layer.className} '${layer.name}' merges several inputs; use the functional API (input, apply, model)`);
    const prev = this.layers[this.layers.length - 1];
    let inputShape: readonly number[];
    if (!prev) {
      if (!layer.configInputShape && !(layer instanceof ModelLayer)) {
        throw new Error(`Sequential.add: the first layer, ${layer.className} '${layer.name}', needs an inputShape (e.g. inputShape: [100, 100, 3])`);
      }
      inputShape = layer instanceof ModelLayer ? layer.inputShape! : layer.configInputShape!;
    } else {
      inputShape = prev.outputShape!;
      if (layer.configInputShape && layer.configInputShape.join() !== inputShape.join()) {
        throw new Error(
          `Sequential.add: ${layer.className} '${layer.name}' declares inputShape ${formatShape(layer.configInputShape)} but the previous layer '${prev.name}' outputs ${formatShape(inputShape)}`,
        );
      }
    }
    try {
      layer.build(inputShape);
      if (layer instanceof ModelLayer) layer.addTo(this.name);
    } catch (e) {
      const msg = (e as Error).message;
      throw new Error(`Sequential.add: ${msg}${prev ? ` (previous layer '${prev.name}' outputs ${formatShape(inputShape)})` : ''}`);
    }
    this.layers.push(layer);
  }

  /**
   * The units a pass runs on the active backend: which runs of layers go as one fused call
   * (`op`, e.g. 'conv.conv2dMaxPoolTrain') and which layers run their own forward (`op` null).
   * See src/model/fusion.ts.
   *
   * @example
   * model.fusionPlan('inference').map((u) => [u.layers.map((l) => l.name), u.op]);
   */
  fusionPlan(mode: FusionMode = 'training'): readonly FusionUnit[] {
    return this.plans.get(this.layers, getBackend(), mode);
  }

  protected forwardPrefix(layers: readonly Layer[], x: Tensor): Tensor {
    const ctx = { training: false, rng: this.rng };
    return planFusion(layers, getBackend(), 'inference').reduce((h, unit) => unit.forward(h, ctx), x);
  }

  protected forward(xs: readonly Tensor[], rng: Random): Tensor[] {
    this.holdWeights(false);
    const ctx = { training: false, rng };
    return [this.fusionPlan('inference').reduce((h, unit) => unit.forward(h, ctx), xs[0])];
  }

  protected trainForward(xs: readonly Tensor[], rng: Random, doctor: Doctor | null | undefined): Tensor[] {
    let y = xs[0];
    for (const unit of this.fusionPlan('training')) {
      y = unit.forward(y, { training: true, rng });
      doctor?.afterUnit(unit.layers, y);
    }
    return [y];
  }

  /** Outputs for every sample, in inference mode, computed batch by batch. */
  override async predict(x: ModelData | BatchDataset, args: { batchSize?: number } = {}): Promise<Tensor> {
    return (await this.predictOutputs(x, args))[0];
  }

  protected backward(dys: readonly Tensor[], needInputGrads: boolean): (Tensor | null)[] {
    const steps = this.fusionPlan('training');
    // Input gradients are needed down to the first unit with a weight to train (unless the model's
    // caller needs them): below it (the batch, Rescaling, augmentation) they would be dropped.
    const first = steps.findIndex((unit) => unit.layers.some((l) => l.params().some((p) => p.trainable)));
    const lowest = needInputGrads ? -1 : first < 0 ? steps.length : first;
    let g: Tensor | null = dys[0];
    for (let i = steps.length - 1; i >= 0 && g; i--) g = steps[i].backward(g, i > lowest);
    return [needInputGrads ? g : null];
  }

  protected summaryRows(): { header: string[]; rows: string[][] } {
    const rows = this.layers.map((l) => {
      const { trainable, nonTrainable } = l.countParams();
      return [`${l.name} (${l.className})`, formatShape(l.outputShape ?? []), (trainable + nonTrainable).toLocaleString('en-US')];
    });
    return { header: ['Layer (type)', 'Output Shape', 'Param #'], rows };
  }

  toKerasTopology(): { class_name: string; config: Record<string, unknown> } {
    return { class_name: 'Sequential', config: { name: this.name, layers: this.layers.map((l, i) => layerToKeras(l, i === 0)) } };
  }
}
