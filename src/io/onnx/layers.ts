// tscnn layers as ONNX (opset 13) nodes, for inference: one entry point, addCall, maps one call
// of a layer on its input tensors. Dropout and the augmentation layers (every RandomLayer: they
// act only in training) are the identity. The
// layers with weights are in weighted.ts, activations and ReLU in activations.ts, the merges in
// merge.ts; the pools, padding and shape layers are here.
import type { ActivationKind } from '../../backend/types.js';
import { conv2dInfo } from '../../geometry.js';
import { Activation } from '../../layers/activation.js';
import { AveragePooling2D } from '../../layers/average-pooling2d.js';
import { BatchNormalization } from '../../layers/batch-normalization.js';
import { Conv2D } from '../../layers/conv2d.js';
import { Dense } from '../../layers/dense.js';
import { DepthwiseConv2D } from '../../layers/depthwise-conv2d.js';
import { Flatten } from '../../layers/flatten.js';
import { GlobalAveragePooling2D, GlobalMaxPooling2D } from '../../layers/global-pooling2d.js';
import { InputLayer } from '../../layers/input-layer.js';
import type { Layer } from '../../layers/layer.js';
import { MaxPooling2D } from '../../layers/max-pooling2d.js';
import { Concatenate } from '../../layers/merge.js';
import { RandomLayer } from '../../layers/random-layer.js';
import { ReLU } from '../../layers/relu.js';
import { Rescaling } from '../../layers/rescaling.js';
import { Reshape } from '../../layers/reshape.js';
import { SeparableConv2D } from '../../layers/separable-conv2d.js';
import { ZeroPadding2D } from '../../layers/zero-padding2d.js';
import { addActivation, relu } from './activations.js';
import { int, ints, NCHW_AXIS, type Flow, type GraphBuilder } from './graph.js';
import { concatenate, elementwiseMerge, ELEMENTWISE_MERGES } from './merge.js';
import { activationOf, batchNorm, conv, dense, depthwise, separable } from './weighted.js';

/** Layer classes the exporter maps, besides any RandomLayer (the others throw, naming the layer). */
export const ONNX_LAYERS = [
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense', 'BatchNormalization', 'Activation', 'ReLU',
  'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'ZeroPadding2D',
  'Flatten', 'Reshape', 'Rescaling', 'Dropout', 'RandomFlip', 'RandomTranslation', 'Concatenate', ...Object.keys(ELEMENTWISE_MERGES),
] as const;

/** Whether addCall maps the layer. */
function exportable(layer: Layer): boolean {
  return (ONNX_LAYERS as readonly string[]).includes(layer.className) || layer instanceof RandomLayer;
}

/** Throws naming the first layer that has no ONNX mapping. */
export function checkExportable(layers: readonly Layer[]): void {
  for (const layer of layers) {
    if (!exportable(layer)) {
      throw new Error(`exportOnnx: layer '${layer.name}' (${layer.className}) has no ONNX mapping; supported layers: ${ONNX_LAYERS.join(', ')}`);
    }
  }
}

/** Whether a BatchNormalization right after this layer's call can be folded into its weights. */
export function foldsBatchNorm(layer: Layer): boolean {
  return (layer instanceof Conv2D || layer instanceof Dense || layer instanceof DepthwiseConv2D || layer instanceof SeparableConv2D) && activationOf(layer) === 'linear';
}

/** MaxPool or AveragePool (padding cells left out of the average, as Keras' 'same') on NCHW. */
function windowPool(g: GraphBuilder, layer: MaxPooling2D | AveragePooling2D, flow: Flow, out: readonly number[]): Flow {
  const owner = layer.name;
  const [h, w, c] = flow.shape as [number, number, number];
  const info = conv2dInfo([1, h, w, c], layer.poolSize, c, layer.strides, layer.padding);
  const attributes = [
    ints('kernel_shape', layer.poolSize),
    ints('strides', layer.strides),
    ints('pads', [info.padTop, info.padLeft, info.padBottom, info.padRight]),
  ];
  const average = layer instanceof AveragePooling2D;
  if (average) attributes.push(int('count_include_pad', 0));
  const y = g.node(owner, average ? 'AveragePool' : 'MaxPool', [g.toNchw(flow, owner).name], attributes);
  return { name: y, shape: out, layout: 'nchw' };
}

/**
 * Global pooling in the layout it gets: GlobalAveragePool / GlobalMaxPool on NCHW (then Flatten
 * unless keepdims), ReduceMean / ReduceMax over height and width on NHWC.
 */
function globalPool(g: GraphBuilder, layer: GlobalAveragePooling2D | GlobalMaxPooling2D, flow: Flow, out: readonly number[]): Flow {
  const owner = layer.name;
  const average = layer instanceof GlobalAveragePooling2D;
  if (flow.layout === 'nchw') {
    const y = g.node(owner, average ? 'GlobalAveragePool' : 'GlobalMaxPool', [flow.name]);
    if (layer.keepdims) return { name: y, shape: out, layout: 'nchw' };
    return { name: g.node(owner, 'Flatten', [y], [int('axis', 1)]), shape: out, layout: 'nhwc' };
  }
  const y = g.node(owner, average ? 'ReduceMean' : 'ReduceMax', [flow.name], [ints('axes', [1, 2]), int('keepdims', layer.keepdims ? 1 : 0)]);
  return { name: y, shape: out, layout: 'nhwc' };
}

/** ZeroPadding2D as Pad (constant 0) in the layout it gets. */
function zeroPadding(g: GraphBuilder, layer: ZeroPadding2D, flow: Flow, out: readonly number[]): Flow {
  const owner = layer.name;
  const [[top, bottom], [left, right]] = layer.padding;
  const begin = [0, 0, 0, 0];
  const end = [0, 0, 0, 0];
  const [hAxis, wAxis] = flow.layout === 'nchw' ? [NCHW_AXIS[1], NCHW_AXIS[2]] : [1, 2];
  [begin[hAxis], begin[wAxis], end[hAxis], end[wAxis]] = [top, left, bottom, right];
  const y = g.node(owner, 'Pad', [flow.name, g.int64s(owner, 'pads', [...begin, ...end])]);
  return { name: y, shape: out, layout: flow.layout };
}

/** Rescaling: x·scale (+ offset), on any layout. */
function rescaling(g: GraphBuilder, layer: Rescaling, flow: Flow): Flow {
  const owner = layer.name;
  let y = g.node(owner, 'Mul', [flow.name, g.floats(owner, 'scale', [], [layer.scale])]);
  if (layer.offset !== 0) y = g.node(owner, 'Add', [y, g.floats(owner, 'offset', [], [layer.offset])]);
  return { ...flow, name: y };
}

/**
 * Appends one call of `layer` on `xs` (its input tensors) with output sample shape `out`; returns
 * the output tensor. `fold`: a BatchNormalization to fold into this call's weights (see
 * {@link foldsBatchNorm}), or null.
 */
export function addCall(g: GraphBuilder, layer: Layer, xs: readonly Flow[], out: readonly number[], fold: BatchNormalization | null): Flow {
  const x = xs[0]!;
  const owner = layer.name;
  if (layer instanceof Conv2D) return conv(g, layer, x, out, fold);
  if (layer instanceof DepthwiseConv2D) return depthwise(g, layer, x, out, fold);
  if (layer instanceof SeparableConv2D) return separable(g, layer, x, out, fold);
  if (layer instanceof Dense) return dense(g, layer, x, out, fold);
  if (layer instanceof BatchNormalization) return batchNorm(g, layer, x);
  if (layer instanceof Activation) return addActivation(g, owner, layer.activation as ActivationKind, x);
  if (layer instanceof ReLU) return relu(g, layer, x);
  if (layer instanceof MaxPooling2D || layer instanceof AveragePooling2D) return windowPool(g, layer, x, out);
  if (layer instanceof GlobalAveragePooling2D || layer instanceof GlobalMaxPooling2D) return globalPool(g, layer, x, out);
  if (layer instanceof ZeroPadding2D) return zeroPadding(g, layer, x, out);
  if (layer instanceof Rescaling) return rescaling(g, layer, x);
  if (layer instanceof Flatten) return { name: g.node(owner, 'Flatten', [g.toNhwc(x, owner).name], [int('axis', 1)]), shape: out, layout: 'nhwc' };
  if (layer instanceof Reshape) {
    // Shape 0 copies the (dynamic) batch size; the rest is in NHWC order, as Keras reshapes.
    const y = g.node(owner, 'Reshape', [g.toNhwc(x, owner).name, g.int64s(owner, 'shape', [0, ...out])]);
    return { name: y, shape: out, layout: 'nhwc' };
  }
  if (layer instanceof Concatenate) return concatenate(g, layer, xs, out);
  if (ELEMENTWISE_MERGES[layer.className] && layer.takesSeveralInputs) return elementwiseMerge(g, layer, xs, out);
  if (layer instanceof RandomLayer || layer instanceof InputLayer) return x;
  throw new Error(`exportOnnx: layer '${layer.name}' (${layer.className}) has no ONNX mapping; supported layers: ${ONNX_LAYERS.join(', ')}`);
}
