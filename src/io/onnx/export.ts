// exportOnnx / toOnnx: a Sequential or functional model as an ONNX model for inference (opset 13).
// Both are walked as one graph of layer calls (a Sequential is a chain), each call mapped by
// layers.ts on the tensors it consumes, so merges, several consumers of one tensor, shared
// layers and several inputs or outputs need no special case here.
import { BatchNormalization } from '../../layers/batch-normalization.js';
import { InputLayer } from '../../layers/input-layer.js';
import type { Layer } from '../../layers/layer.js';
import { nodesBetween, type SymbolicTensor } from '../../layers/symbolic.js';
import type { LayersModel } from '../../model/layers-model.js';
import { GraphBuilder, type Flow } from './graph.js';
import { addCall, checkExportable, foldsBatchNorm } from './layers.js';
import { DataType, encodeModel, type ModelMsg, type ValueInfoMsg } from './proto.js';
import { lazyFunctions } from '../../util/node-builtins.js';

const { writeFile } = lazyFunctions('node:fs/promises', ['writeFile'], 'exportOnnx');

/** The ONNX operator set the exporter writes (IR version 7 goes with it). */
export const ONNX_OPSET = 13;
const IR_VERSION = 7;

/** One call of a layer: the tensors it reads and the one it makes (any object identifies a tensor). */
interface Call {
  layer: Layer;
  inputs: readonly unknown[];
  output: unknown;
  /** Output sample shape of this call (a shared layer has one per call). */
  shape: readonly number[];
}

/** The model as a graph of calls, with its input and output tensors. */
interface CallGraph {
  inputs: { key: unknown; shape: readonly number[]; name: string }[];
  outputs: unknown[];
  calls: Call[];
}

function callGraph(model: LayersModel): CallGraph {
  if ('inputs' in model) {
    const fn = model as LayersModel & { inputs: readonly SymbolicTensor[]; outputs: readonly SymbolicTensor[] };
    const calls = nodesBetween(fn.outputs)
      .filter((n) => !(n.layer instanceof InputLayer))
      .map((n) => ({ layer: n.layer, inputs: n.inputs, output: n.output, shape: n.output.sampleShape }));
    return { inputs: fn.inputs.map((t) => ({ key: t, shape: t.sampleShape, name: t.node.layer.name })), outputs: [...fn.outputs], calls };
  }
  const inputShape = model.layers[0]!.inputShape;
  if (!inputShape) throw new Error(`exportOnnx: the model '${model.name}' has no input shape (give the first layer an inputShape)`);
  // Tensor i is the input of layer i; the model's input is tensor 0, its output tensor n.
  const calls = model.layers.map((layer, i) => ({ layer, inputs: [i], output: i + 1, shape: layer.outputShape! }));
  return { inputs: [{ key: 0, shape: inputShape, name: 'input' }], outputs: [model.layers.length], calls };
}

function valueInfo(name: string, sampleShape: readonly number[]): ValueInfoMsg {
  const dim = [{ dimParam: 'batch' }, ...sampleShape.map((d) => ({ dimValue: d }))];
  return { name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim } } } };
}

/**
 * The ONNX message of a model (see {@link toOnnx}), before encoding. Exported for tests that
 * count the graph's nodes.
 */
export function onnxModel(model: LayersModel): ModelMsg {
  if (!model || !Array.isArray((model as { layers?: unknown }).layers)) throw new Error(`exportOnnx: expects a Sequential or functional model, got ${String(model)}`);
  if (model.layers.length === 0) throw new Error(`exportOnnx: the model '${model.name}' has no layers`);
  // Before weights are drawn, so that a model that cannot be exported is left as it was.
  checkExportable(model.layers);
  const graph = callGraph(model);
  model.getWeights();
  const inputNames = graph.inputs.length === 1 ? ['input'] : graph.inputs.map((t) => t.name);
  const outputNames = graph.outputs.length === 1 ? ['output'] : graph.outputs.map((_, i) => `output_${i}`);
  const g = new GraphBuilder([...inputNames, ...outputNames]);
  const flows = new Map<unknown, Flow>(graph.inputs.map((t, i) => [t.key, { name: inputNames[i]!, shape: t.shape, layout: 'nhwc' }]));
  const consumers = new Map<unknown, Call[]>();
  for (const call of graph.calls) for (const t of call.inputs) consumers.set(t, [...(consumers.get(t) ?? []), call]);
  const folded = new Set<Call>();
  for (const call of graph.calls) {
    if (folded.has(call)) continue;
    const readers = consumers.get(call.output) ?? [];
    const next = readers.length === 1 && !graph.outputs.includes(call.output) ? readers[0]! : null;
    const fold = next && next.layer instanceof BatchNormalization && foldsBatchNorm(call.layer) ? next : null;
    const y = addCall(g, call.layer, call.inputs.map((t) => flows.get(t)!), call.shape, fold ? (fold.layer as BatchNormalization) : null);
    flows.set(call.output, y);
    if (fold) {
      folded.add(fold);
      flows.set(fold.output, y);
    }
  }
  const renamed = new Map<string, string>();
  graph.outputs.forEach((key, i) => {
    const name = outputNames[i]!;
    const flow = g.toNhwc(flows.get(key)!, name);
    const current = renamed.get(flow.name) ?? flow.name;
    const producer = g.nodes.find((n) => n.output[0] === current);
    const read = g.nodes.some((n) => n.input.includes(current));
    if (producer && !read && current === flow.name) {
      producer.output[0] = name;
      renamed.set(flow.name, name);
    } else {
      g.nodes.push({ name: g.unique(`${name}/Identity`), opType: 'Identity', input: [current], output: [name], attribute: [] });
    }
  });
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'tscnn',
    producerVersion: '0.1.0',
    graph: {
      name: model.name,
      node: g.nodes,
      initializer: g.initializers,
      input: graph.inputs.map((t, i) => valueInfo(inputNames[i]!, t.shape)),
      output: graph.outputs.map((key, i) => valueInfo(outputNames[i]!, flows.get(key)!.shape)),
    },
  };
}

/**
 * The model (Sequential or functional) as ONNX bytes, for inference: input `input` of shape
 * `[batch, ...inputShape]` (NHWC for images, as tscnn; the batch dimension is dynamic), output
 * `output` of shape `[batch, ...outputShape]`, float32 (a model with several inputs names them
 * after its input layers, several outputs `output_0`, `output_1`, …). BatchNormalization uses
 * its moving statistics (folded into the convolution or Dense before it when that has no
 * activation and no other reader), Dropout and the augmentation layers are the identity.
 * Convolutions run in NCHW inside the graph, with Transposes only where a layer needs the other
 * layout. Draws initial weights first if the model has none yet. Throws naming the first layer
 * that has no ONNX mapping; the model is not changed. Loads `protobufjs` on first use.
 *
 * @example
 * const bytes = await toOnnx(model);
 * const session = await ort.InferenceSession.create(bytes); // onnxruntime-node
 */
export async function toOnnx(model: LayersModel): Promise<Uint8Array> {
  return encodeModel(onnxModel(model));
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
