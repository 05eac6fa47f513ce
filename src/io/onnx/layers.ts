// tscnn layers and activations as ONNX (opset 13) nodes, for inference: Dropout and the
// augmentation layers are the identity, BatchNormalization after a Conv2D or Dense without an
// activation is folded into its weights (in float64), and its moving statistics are used.
import type { ActivationKind } from '../../backend/types.js';
import { conv2dInfo } from '../../geometry.js';
import { defaultAlpha } from '../../layers/activations.js';
import { Activation } from '../../layers/activation.js';
import { BatchNormalization } from '../../layers/batch-normalization.js';
import { Conv2D } from '../../layers/conv2d.js';
import { DepthwiseConv2D } from '../../layers/depthwise-conv2d.js';
import { ReLU } from '../../layers/relu.js';
import { SeparableConv2D } from '../../layers/separable-conv2d.js';
import { ZeroPadding2D } from '../../layers/zero-padding2d.js';
import { Dense } from '../../layers/dense.js';
import { Flatten } from '../../layers/flatten.js';
import type { Layer, Param } from '../../layers/layer.js';
import { MaxPooling2D } from '../../layers/max-pooling2d.js';
import { RandomLayer } from '../../layers/random-layer.js';
import { float, GraphBuilder, int, ints, type Flow } from './graph.js';
import type { AttributeMsg } from './proto.js';

/** Layer classes the exporter maps (the others throw, naming the layer). */
export const ONNX_LAYERS = [
  'Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D', 'Flatten', 'Dense', 'Dropout', 'RandomFlip', 'RandomTranslation',
  'DepthwiseConv2D', 'SeparableConv2D', 'ZeroPadding2D', 'ReLU', 'RandomRotation', 'RandomZoom', 'RandomContrast',
] as const;

/** Throws naming the first layer that has no ONNX mapping. */
export function checkExportable(layers: readonly Layer[]): void {
  for (const layer of layers) {
    if (!(ONNX_LAYERS as readonly string[]).includes(layer.className)) {
      throw new Error(`exportOnnx: layer '${layer.name}' (${layer.className}) has no ONNX mapping; supported layers: ${ONNX_LAYERS.join(', ')}`);
    }
  }
}

/** Keras' SELU constants, as tscnn's backends use them. */
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

function param(layer: Layer, weight: string): Param | undefined {
  return layer.params().find((p) => p.name === `${layer.name}/${weight}`);
}

function activationOf(layer: Layer): ActivationKind {
  return layer.getConfig().activation as ActivationKind;
}

/** Scale and shift of a BatchNormalization in inference: y = x·scale + shift, per channel. */
export function batchNormAffine(bn: BatchNormalization): { scale: Float64Array; shift: Float64Array } {
  const mean = param(bn, 'moving_mean')!.value;
  const variance = param(bn, 'moving_variance')!.value;
  const gamma = param(bn, 'gamma')?.value;
  const beta = param(bn, 'beta')?.value;
  const c = mean.length;
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    scale[i] = (gamma ? gamma[i]! : 1) / Math.sqrt(variance[i]! + bn.epsilon);
    shift[i] = (beta ? beta[i]! : 0) - mean[i]! * scale[i]!;
  }
  return { scale, shift };
}

/** Activations that are one ONNX node on x: its op and attributes (`alpha`: leakyRelu's and elu's). */
const ONE_NODE: Partial<Record<ActivationKind, (alpha: number) => [opType: string, attributes: AttributeMsg[]]>> = {
  relu: () => ['Relu', []],
  sigmoid: () => ['Sigmoid', []],
  tanh: () => ['Tanh', []],
  leakyRelu: (alpha) => ['LeakyRelu', [float('alpha', alpha)]],
  elu: (alpha) => ['Elu', [float('alpha', alpha)]],
  selu: () => ['Selu', [float('alpha', SELU_ALPHA), float('gamma', SELU_SCALE)]],
  softplus: () => ['Softplus', []],
  softsign: () => ['Softsign', []],
  hardSigmoid: () => ['HardSigmoid', [float('alpha', 0.2), float('beta', 0.5)]],
};

/** Appends `kind` applied to `flow` (softmax over the channel axis, wherever the layout puts it). */
export function addActivation(g: GraphBuilder, owner: string, kind: ActivationKind, flow: Flow): Flow {
  if (kind === 'linear') return flow;
  const x = flow.name;
  const one = ONE_NODE[kind];
  let y: string;
  if (one) {
    const [opType, attributes] = one(defaultAlpha(kind));
    y = g.node(owner, opType, [x], attributes);
  } else if (kind === 'relu6') {
    y = g.node(owner, 'Clip', [x, g.floats(owner, 'clip_min', [], [0]), g.floats(owner, 'clip_max', [], [6])]);
  } else if (kind === 'softmax') {
    y = g.node(owner, 'Softmax', [x], [int('axis', flow.layout === 'nchw' ? 1 : -1)]);
  } else if (kind === 'swish') {
    y = g.node(owner, 'Mul', [x, g.node(owner, 'Sigmoid', [x])]);
  } else {
    throw new Error(`exportOnnx: ${owner}: activation '${kind as string}' has no ONNX mapping`);
  }
  return { ...flow, name: y };
}

/** Multiplies weights whose last axis is the output channel by `scale` and folds `shift` into the bias. */
function foldInto(kernel: Float32Array, bias: Float32Array | undefined, units: number, bn: BatchNormalization): { kernel: Float32Array; bias: Float32Array } {
  const { scale, shift } = batchNormAffine(bn);
  const k = new Float32Array(kernel.length);
  for (let i = 0; i < kernel.length; i++) k[i] = kernel[i]! * scale[i % units]!;
  const b = new Float32Array(units);
  for (let f = 0; f < units; f++) b[f] = (bias ? bias[f]! : 0) * scale[f]! + shift[f]!;
  return { kernel: k, bias: b };
}

function conv(g: GraphBuilder, layer: Conv2D, flow: Flow, fold: BatchNormalization | null): Flow {
  const owner = layer.name;
  const [h, w, c] = flow.shape as [number, number, number];
  const [kh, kw] = layer.kernelSize;
  const f = layer.filters;
  let kernel = param(layer, 'kernel')!.value;
  let bias = param(layer, 'bias')?.value;
  if (fold) ({ kernel, bias } = foldInto(kernel, bias, f, fold));
  // [kh, kw, c, f] → [f, c, kh, kw]
  const oihw = new Float32Array(kernel.length);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let ci = 0; ci < c; ci++) for (let fi = 0; fi < f; fi++) {
    oihw[((fi * c + ci) * kh + i) * kw + j] = kernel[((i * kw + j) * c + ci) * f + fi]!;
  }
  const info = conv2dInfo([1, h, w, c], layer.kernelSize, f, layer.strides, layer.padding, layer.dilationRate);
  const x = g.toNchw(flow, owner);
  const inputs = [x.name, g.floats(owner, 'kernel', [f, c, kh, kw], oihw)];
  if (bias) inputs.push(g.floats(owner, 'bias', [f], bias));
  const y = g.node(owner, 'Conv', inputs, [
    ints('kernel_shape', [kh, kw]),
    ints('strides', layer.strides),
    ints('dilations', layer.dilationRate),
    ints('pads', [info.padTop, info.padLeft, info.padBottom, info.padRight]),
  ]);
  return addActivation(g, owner, activationOf(layer), { name: y, shape: layer.outputShape!, layout: 'nchw' });
}

/**
 * A depthwise convolution as an ONNX Conv with group = C: kernel [kh, kw, C, M] → [C·M, 1, kh, kw]
 * (output channel c·M + m in both). `bias` null: none.
 */
function depthwiseNode(
  g: GraphBuilder, owner: string, layer: DepthwiseConv2D | SeparableConv2D, flow: Flow, kernel: Float32Array, bias: Float32Array | null,
): Flow {
  const [h, w, c] = flow.shape as [number, number, number];
  const [kh, kw] = layer.kernelSize;
  const m = layer.depthMultiplier;
  const f = c * m;
  const oihw = new Float32Array(kernel.length);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let k = 0; k < f; k++) oihw[(k * kh + i) * kw + j] = kernel[(i * kw + j) * f + k]!;
  const info = conv2dInfo([1, h, w, c], layer.kernelSize, f, layer.strides, layer.padding, layer.dilationRate);
  const x = g.toNchw(flow, owner);
  const inputs = [x.name, g.floats(owner, 'depthwise_kernel', [f, 1, kh, kw], oihw)];
  if (bias) inputs.push(g.floats(owner, 'bias', [f], bias));
  const y = g.node(owner, 'Conv', inputs, [
    int('group', c),
    ints('kernel_shape', [kh, kw]),
    ints('strides', layer.strides),
    ints('dilations', layer.dilationRate),
    ints('pads', [info.padTop, info.padLeft, info.padBottom, info.padRight]),
  ]);
  return { name: y, shape: [info.outHeight, info.outWidth, f], layout: 'nchw' };
}

function depthwise(g: GraphBuilder, layer: DepthwiseConv2D, flow: Flow): Flow {
  const y = depthwiseNode(g, layer.name, layer, flow, param(layer, 'depthwise_kernel')!.value, param(layer, 'bias')?.value ?? null);
  return addActivation(g, layer.name, activationOf(layer), y);
}

/** SeparableConv2D: the depthwise Conv, then a 1×1 Conv with the bias, then the activation. */
function separable(g: GraphBuilder, layer: SeparableConv2D, flow: Flow): Flow {
  const owner = layer.name;
  const mid = depthwiseNode(g, owner, layer, flow, param(layer, 'depthwise_kernel')!.value, null);
  const c = mid.shape[2]!;
  const f = layer.filters;
  const pw = param(layer, 'pointwise_kernel')!.value;
  // [1, 1, c, f] → [f, c, 1, 1]
  const oihw = new Float32Array(pw.length);
  for (let ci = 0; ci < c; ci++) for (let fi = 0; fi < f; fi++) oihw[fi * c + ci] = pw[ci * f + fi]!;
  const inputs = [mid.name, g.floats(owner, 'pointwise_kernel', [f, c, 1, 1], oihw)];
  const bias = param(layer, 'bias')?.value;
  if (bias) inputs.push(g.floats(owner, 'bias', [f], bias));
  const y = g.node(owner, 'Conv', inputs, [ints('kernel_shape', [1, 1])]);
  return addActivation(g, owner, activationOf(layer), { name: y, shape: layer.outputShape!, layout: 'nchw' });
}

/** ZeroPadding2D as Pad (constant 0) on the NCHW tensor. */
function zeroPadding(g: GraphBuilder, layer: ZeroPadding2D, flow: Flow): Flow {
  const owner = layer.name;
  const [[top, bottom], [left, right]] = layer.padding;
  const x = g.toNchw(flow, owner);
  const y = g.node(owner, 'Pad', [x.name, g.int64s(owner, 'pads', [0, 0, top, left, 0, 0, bottom, right])]);
  return { name: y, shape: layer.outputShape!, layout: 'nchw' };
}

/**
 * Keras' ReLU: Relu, Clip (maxValue) or LeakyRelu (negativeSlope) where one op says it, else
 * where(x > threshold, min(x, maxValue), negativeSlope·(x − threshold)).
 */
function relu(g: GraphBuilder, layer: ReLU, flow: Flow): Flow {
  const owner = layer.name;
  const { maxValue, negativeSlope: slope, threshold } = layer;
  const x = flow.name;
  let y: string;
  if (threshold === 0 && slope === 0) {
    y = maxValue === null ? g.node(owner, 'Relu', [x]) : g.node(owner, 'Clip', [x, g.floats(owner, 'clip_min', [], [0]), g.floats(owner, 'clip_max', [], [maxValue])]);
  } else if (threshold === 0 && maxValue === null) {
    y = g.node(owner, 'LeakyRelu', [x], [float('alpha', slope)]);
  } else {
    const t = g.floats(owner, 'threshold', [], [threshold]);
    const above = maxValue === null ? x : g.node(owner, 'Min', [x, g.floats(owner, 'max_value', [], [maxValue])]);
    const below = g.node(owner, 'Mul', [g.node(owner, 'Sub', [x, t]), g.floats(owner, 'negative_slope', [], [slope])]);
    y = g.node(owner, 'Where', [g.node(owner, 'Greater', [x, t]), above, below]);
  }
  return { ...flow, name: y };
}

function dense(g: GraphBuilder, layer: Dense, flow: Flow, fold: BatchNormalization | null): Flow {
  const owner = layer.name;
  let kernel = param(layer, 'kernel')!.value;
  let bias = param(layer, 'bias')?.value;
  if (fold) ({ kernel, bias } = foldInto(kernel, bias, layer.units, fold));
  const x = flow.shape.length === 3 ? g.toNhwc(flow, owner) : flow;
  const inUnits = flow.shape[flow.shape.length - 1]!;
  const k = g.floats(owner, 'kernel', [inUnits, layer.units], kernel);
  let y: string;
  if (flow.shape.length === 1) {
    y = g.node(owner, 'Gemm', bias ? [x.name, k, g.floats(owner, 'bias', [layer.units], bias)] : [x.name, k]);
  } else {
    y = g.node(owner, 'MatMul', [x.name, k]);
    if (bias) y = g.node(owner, 'Add', [y, g.floats(owner, 'bias', [layer.units], bias)]);
  }
  return addActivation(g, owner, activationOf(layer), { name: y, shape: layer.outputShape!, layout: 'nhwc' });
}

function batchNorm(g: GraphBuilder, layer: BatchNormalization, flow: Flow): Flow {
  const owner = layer.name;
  const rank = flow.shape.length + 1;
  if (rank === 4 || rank === 2) {
    const x = rank === 4 ? g.toNchw(flow, owner) : flow;
    const c = flow.shape[flow.shape.length - 1]!;
    const gamma = param(layer, 'gamma')?.value ?? new Float32Array(c).fill(1);
    const beta = param(layer, 'beta')?.value ?? new Float32Array(c);
    const inputs = [
      x.name,
      g.floats(owner, 'gamma', [c], gamma),
      g.floats(owner, 'beta', [c], beta),
      g.floats(owner, 'moving_mean', [c], param(layer, 'moving_mean')!.value),
      g.floats(owner, 'moving_variance', [c], param(layer, 'moving_variance')!.value),
    ];
    return { ...x, name: g.node(owner, 'BatchNormalization', inputs, [float('epsilon', layer.epsilon)]) };
  }
  // Other ranks: channels are last, which ONNX's BatchNormalization does not take; an affine map.
  const { scale, shift } = batchNormAffine(layer);
  const c = scale.length;
  const y = g.node(owner, 'Mul', [flow.name, g.floats(owner, 'scale', [c], scale)]);
  return { ...flow, name: g.node(owner, 'Add', [y, g.floats(owner, 'shift', [c], shift)]) };
}

function maxPool(g: GraphBuilder, layer: MaxPooling2D, flow: Flow): Flow {
  const owner = layer.name;
  const [h, w, c] = flow.shape as [number, number, number];
  const info = conv2dInfo([1, h, w, c], layer.poolSize, c, layer.strides, layer.padding);
  const x = g.toNchw(flow, owner);
  const y = g.node(owner, 'MaxPool', [x.name], [
    ints('kernel_shape', layer.poolSize),
    ints('strides', layer.strides),
    ints('pads', [info.padTop, info.padLeft, info.padBottom, info.padRight]),
  ]);
  return { name: y, shape: layer.outputShape!, layout: 'nchw' };
}

/**
 * Appends the layers to the graph, starting from `flow`. A BatchNormalization right after a
 * Conv2D or Dense whose own activation is linear is folded into its weights.
 */
export function addLayers(g: GraphBuilder, layers: readonly Layer[], flow: Flow): Flow {
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const next = layers[i + 1];
    const foldable = next instanceof BatchNormalization && activationOf(layer) === 'linear' ? next : null;
    if (layer instanceof Conv2D) {
      flow = conv(g, layer, flow, foldable);
      if (foldable) i++;
    } else if (layer instanceof Dense) {
      flow = dense(g, layer, flow, foldable);
      if (foldable) i++;
    } else if (layer instanceof BatchNormalization) {
      flow = batchNorm(g, layer, flow);
    } else if (layer instanceof MaxPooling2D) {
      flow = maxPool(g, layer, flow);
    } else if (layer instanceof Activation) {
      flow = addActivation(g, layer.name, layer.activation as ActivationKind, flow);
    } else if (layer instanceof Flatten) {
      const x = flow.shape.length === 3 ? g.toNhwc(flow, layer.name) : flow;
      flow = { name: g.node(layer.name, 'Flatten', [x.name], [int('axis', 1)]), shape: layer.outputShape!, layout: 'nhwc' };
    } else if (layer instanceof DepthwiseConv2D) {
      flow = depthwise(g, layer, flow);
    } else if (layer instanceof SeparableConv2D) {
      flow = separable(g, layer, flow);
    } else if (layer instanceof ZeroPadding2D) {
      flow = zeroPadding(g, layer, flow);
    } else if (layer instanceof ReLU) {
      flow = relu(g, layer, flow);
    } else if (layer instanceof RandomLayer) {
      continue; // the identity in inference (Dropout and every augmentation layer)
    } else {
      throw new Error(`exportOnnx: layer '${layer.name}' (${layer.className}) has no ONNX mapping; supported layers: ${ONNX_LAYERS.join(', ')}`);
    }
  }
  return flow;
}
