// Activations as ONNX nodes: the 13 activation names, and Keras' ReLU layer (maxValue,
// negativeSlope, threshold). All are element-wise, so they keep the layout they get; only
// softmax looks at it (its axis is the channels).
import type { ActivationKind } from '../../backend/types.js';
import { defaultAlpha } from '../../layers/activations.js';
import type { ReLU } from '../../layers/relu.js';
import { float, int, type GraphBuilder, type Flow } from './graph.js';
import type { AttributeMsg } from './proto.js';

/** Keras' SELU constants, as tscnn's backends use them. */
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

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
    // Opset 13's Softmax normalizes along this one axis (opset 11 flattened the trailing axes).
    y = g.node(owner, 'Softmax', [x], [int('axis', flow.layout === 'nchw' ? 1 : -1)]);
  } else if (kind === 'swish') {
    y = g.node(owner, 'Mul', [x, g.node(owner, 'Sigmoid', [x])]);
  } else {
    throw new Error(`exportOnnx: ${owner}: activation '${kind as string}' has no ONNX mapping`);
  }
  return { ...flow, name: y };
}

/**
 * Keras' ReLU: Relu, Clip (maxValue) or LeakyRelu (negativeSlope) where one op says it, else
 * where(x > threshold, min(x, maxValue), negativeSlope·(x − threshold)).
 */
export function relu(g: GraphBuilder, layer: ReLU, flow: Flow): Flow {
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
