// exportOnnx / toOnnx: a Sequential model as an ONNX model for inference (opset 13). Functional
// models are refused by name (their graph, with Add and Concatenate, is not mapped yet).
import type { LayersModel } from '../../model/layers-model.js';
import { GraphBuilder } from './graph.js';
import { addLayers, checkExportable } from './layers.js';
import { DataType, encodeModel, type ModelMsg, type ValueInfoMsg } from './proto.js';
import { lazyFunctions } from '../../util/node-builtins.js';

const { writeFile } = lazyFunctions('node:fs/promises', ['writeFile'], 'exportOnnx');

/** The ONNX operator set the exporter writes (IR version 7 goes with it). */
export const ONNX_OPSET = 13;
const IR_VERSION = 7;

function valueInfo(name: string, sampleShape: readonly number[]): ValueInfoMsg {
  const dim = [{ dimParam: 'batch' }, ...sampleShape.map((d) => ({ dimValue: d }))];
  return { name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim } } } };
}

/**
 * The model as ONNX bytes, for inference: input `input` of shape `[batch, ...inputShape]`
 * (NHWC for images, as tscnn; the batch dimension is dynamic), output `output` of shape
 * `[batch, ...outputShape]`, float32. BatchNormalization uses its moving statistics (folded into
 * the Conv2D or Dense before it when that has no activation), Dropout and the augmentation layers
 * are the identity. Draws initial weights first if the model has none yet. Throws naming the
 * first layer that has no ONNX mapping; the model is not changed. Loads `protobufjs` on first use.
 *
 * @example
 * const bytes = await toOnnx(model);
 * const session = await ort.InferenceSession.create(bytes); // onnxruntime-node
 */
export async function toOnnx(model: LayersModel): Promise<Uint8Array> {
  if (!model || !Array.isArray((model as { layers?: unknown }).layers)) throw new Error(`exportOnnx: expects a Sequential model, got ${String(model)}`);
  // A functional Model carries its symbolic inputs; a Sequential has none (a type import cannot test the class).
  if ('inputs' in model) {
    throw new Error(`exportOnnx: '${model.name}' is a functional model; only Sequential models can be exported to ONNX so far`);
  }
  if (model.layers.length === 0) throw new Error(`exportOnnx: the model '${model.name}' has no layers`);
  const inputShape = model.layers[0]!.inputShape;
  if (!inputShape) throw new Error(`exportOnnx: the model '${model.name}' has no input shape (give the first layer an inputShape)`);
  // Before weights are drawn, so that a model that cannot be exported is left as it was.
  checkExportable(model.layers);
  model.getWeights();
  const g = new GraphBuilder();
  let flow = addLayers(g, model.layers, { name: 'input', shape: inputShape, layout: 'nhwc' });
  if (flow.shape.length === 3) flow = g.toNhwc(flow, 'output');
  const last = g.nodes[g.nodes.length - 1];
  if (last && last.output[0] === flow.name) last.output[0] = 'output';
  else g.nodes.push({ name: 'output/Identity', opType: 'Identity', input: [flow.name], output: ['output'], attribute: [] });
  const msg: ModelMsg = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'tscnn',
    producerVersion: '0.1.0',
    graph: {
      name: model.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo('input', inputShape)],
      output: [valueInfo('output', flow.shape)],
    },
  };
  return encodeModel(msg);
}

/**
 * Writes the model as an ONNX file (see {@link toOnnx} for what the graph holds), to be run with
 * ONNX Runtime or any other ONNX engine. Input `input` `[batch, height, width, channels]`.
 *
 * @example
 * await exportOnnx(model, 'model.onnx');
 * // python: onnxruntime.InferenceSession('model.onnx').run(None, {'input': x_nhwc})
 */
export async function exportOnnx(model: LayersModel, file: string): Promise<void> {
  if (typeof file !== 'string' || file === '') throw new Error(`exportOnnx: file must be a non-empty path, got ${JSON.stringify(file)}`);
  await writeFile(file, await toOnnx(model));
}
