// The layers with weights as ONNX nodes: Conv2D, DepthwiseConv2D and SeparableConv2D as NCHW
// Conv nodes (kernels transposed from Keras' [kh, kw, in, out] to ONNX's [out, in, kh, kw]), Dense
// as Gemm or MatMul on channels-last data, BatchNormalization with its moving statistics. A
// BatchNormalization that is the only consumer of one of these layers' linear output is folded
// into its kernel and bias (in float64) by the caller passing it as `fold`.
import type { ActivationKind } from '../../backend/types.js';
import { conv2dInfo } from '../../geometry.js';
import type { BatchNormalization } from '../../layers/batch-normalization.js';
import type { Conv2D } from '../../layers/conv2d.js';
import type { Dense } from '../../layers/dense.js';
import type { DepthwiseConv2D } from '../../layers/depthwise-conv2d.js';
import type { Layer, Param } from '../../layers/layer.js';
import type { SeparableConv2D } from '../../layers/separable-conv2d.js';
import { addActivation } from './activations.js';
import { float, GraphBuilder, int, ints, type Flow } from './graph.js';

function param(layer: Layer, weight: string): Param | undefined {
  return layer.params().find((p) => p.name === `${layer.name}/${weight}`);
}

/** The layer's `activation` option ('linear' for layers without one). */
export function activationOf(layer: Layer): ActivationKind {
  return (layer.getConfig().activation as ActivationKind | undefined) ?? 'linear';
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

/** Kernel and bias with `bn` folded in (the kernel's last axis is the output channel); unchanged when `bn` is null. */
function folded(kernel: Float32Array, bias: Float32Array | undefined, units: number, bn: BatchNormalization | null): { kernel: Float32Array; bias: Float32Array | undefined } {
  if (!bn) return { kernel, bias };
  const { scale, shift } = batchNormAffine(bn);
  const k = new Float32Array(kernel.length);
  for (let i = 0; i < kernel.length; i++) k[i] = kernel[i]! * scale[i % units]!;
  const b = new Float32Array(units);
  for (let f = 0; f < units; f++) b[f] = (bias ? bias[f]! : 0) * scale[f]! + shift[f]!;
  return { kernel: k, bias: b };
}

/** A Conv node on the NCHW input with `oihw` weights; `group` 1 for a full convolution. */
function convNode(
  g: GraphBuilder, owner: string, flow: Flow, layer: Conv2D | DepthwiseConv2D | SeparableConv2D,
  oihw: Float32Array, dims: [number, number, number, number], bias: Float32Array | undefined, group: number, what: string,
): string {
  const [h, w, c] = flow.shape as [number, number, number];
  const info = conv2dInfo([1, h, w, c], layer.kernelSize, dims[0], layer.strides, layer.padding, layer.dilationRate);
  const inputs = [g.toNchw(flow, owner).name, g.floats(owner, what, dims, oihw)];
  if (bias) inputs.push(g.floats(owner, 'bias', [dims[0]], bias));
  return g.node(owner, 'Conv', inputs, [
    ...(group > 1 ? [int('group', group)] : []),
    ints('kernel_shape', layer.kernelSize),
    ints('strides', layer.strides),
    ints('dilations', layer.dilationRate),
    ints('pads', [info.padTop, info.padLeft, info.padBottom, info.padRight]),
  ]);
}

/** Conv2D: one Conv (NCHW), then its activation. */
export function conv(g: GraphBuilder, layer: Conv2D, flow: Flow, out: readonly number[], fold: BatchNormalization | null): Flow {
  const c = flow.shape[2]!;
  const [kh, kw] = layer.kernelSize;
  const f = layer.filters;
  const { kernel, bias } = folded(param(layer, 'kernel')!.value, param(layer, 'bias')?.value, f, fold);
  const oihw = new Float32Array(kernel.length);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let ci = 0; ci < c; ci++) for (let fi = 0; fi < f; fi++) {
    oihw[((fi * c + ci) * kh + i) * kw + j] = kernel[((i * kw + j) * c + ci) * f + fi]!;
  }
  const y = convNode(g, layer.name, flow, layer, oihw, [f, c, kh, kw], bias, 1, 'kernel');
  return addActivation(g, layer.name, activationOf(layer), { name: y, shape: out, layout: 'nchw' });
}

/** A depthwise kernel [kh, kw, C, M] as a grouped Conv's [C·M, 1, kh, kw] (output channel c·M + m in both). */
function depthwiseOihw(kernel: Float32Array, kh: number, kw: number, f: number): Float32Array {
  const oihw = new Float32Array(kernel.length);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let k = 0; k < f; k++) oihw[(k * kh + i) * kw + j] = kernel[(i * kw + j) * f + k]!;
  return oihw;
}

/** DepthwiseConv2D: a Conv with group = C, then its activation. */
export function depthwise(g: GraphBuilder, layer: DepthwiseConv2D, flow: Flow, out: readonly number[], fold: BatchNormalization | null): Flow {
  const c = flow.shape[2]!;
  const f = c * layer.depthMultiplier;
  const [kh, kw] = layer.kernelSize;
  const { kernel, bias } = folded(param(layer, 'depthwise_kernel')!.value, param(layer, 'bias')?.value, f, fold);
  const y = convNode(g, layer.name, flow, layer, depthwiseOihw(kernel, kh, kw, f), [f, 1, kh, kw], bias, c, 'depthwise_kernel');
  return addActivation(g, layer.name, activationOf(layer), { name: y, shape: out, layout: 'nchw' });
}

/** SeparableConv2D: the depthwise Conv, then a 1×1 Conv with the bias (and any folded BatchNormalization), then the activation. */
export function separable(g: GraphBuilder, layer: SeparableConv2D, flow: Flow, out: readonly number[], fold: BatchNormalization | null): Flow {
  const owner = layer.name;
  const c = flow.shape[2]!;
  const mid = c * layer.depthMultiplier;
  const [kh, kw] = layer.kernelSize;
  const dw = depthwiseOihw(param(layer, 'depthwise_kernel')!.value, kh, kw, mid);
  const y1 = convNode(g, owner, flow, layer, dw, [mid, 1, kh, kw], undefined, c, 'depthwise_kernel');
  const f = layer.filters;
  const { kernel: pw, bias } = folded(param(layer, 'pointwise_kernel')!.value, param(layer, 'bias')?.value, f, fold);
  // [1, 1, mid, f] → [f, mid, 1, 1]
  const oihw = new Float32Array(pw.length);
  for (let ci = 0; ci < mid; ci++) for (let fi = 0; fi < f; fi++) oihw[fi * mid + ci] = pw[ci * f + fi]!;
  const inputs = [y1, g.floats(owner, 'pointwise_kernel', [f, mid, 1, 1], oihw)];
  if (bias) inputs.push(g.floats(owner, 'bias', [f], bias));
  const y = g.node(owner, 'Conv', inputs, [ints('kernel_shape', [1, 1])]);
  return addActivation(g, owner, activationOf(layer), { name: y, shape: out, layout: 'nchw' });
}

/** Dense on the last axis: Gemm on [batch, units], MatMul (+ Add) on higher ranks in NHWC. */
export function dense(g: GraphBuilder, layer: Dense, flow: Flow, out: readonly number[], fold: BatchNormalization | null): Flow {
  const owner = layer.name;
  const { kernel, bias } = folded(param(layer, 'kernel')!.value, param(layer, 'bias')?.value, layer.units, fold);
  const x = g.toNhwc(flow, owner);
  const inUnits = flow.shape[flow.shape.length - 1]!;
  const k = g.floats(owner, 'kernel', [inUnits, layer.units], kernel);
  let y: string;
  if (flow.shape.length === 1) {
    y = g.node(owner, 'Gemm', bias ? [x.name, k, g.floats(owner, 'bias', [layer.units], bias)] : [x.name, k]);
  } else {
    y = g.node(owner, 'MatMul', [x.name, k]);
    if (bias) y = g.node(owner, 'Add', [y, g.floats(owner, 'bias', [layer.units], bias)]);
  }
  return addActivation(g, owner, activationOf(layer), { name: y, shape: out, layout: 'nhwc' });
}

/**
 * BatchNormalization in the layout it gets: ONNX's BatchNormalization on NCHW and on
 * [batch, channels]; on channels-last data of other ranks (which that op does not take) the
 * affine map x·scale + shift, broadcast over the last axis.
 */
export function batchNorm(g: GraphBuilder, layer: BatchNormalization, flow: Flow): Flow {
  const owner = layer.name;
  const c = flow.shape[flow.shape.length - 1]!;
  if (flow.layout === 'nchw' || flow.shape.length === 1) {
    const gamma = param(layer, 'gamma')?.value ?? new Float32Array(c).fill(1);
    const beta = param(layer, 'beta')?.value ?? new Float32Array(c);
    const inputs = [
      flow.name,
      g.floats(owner, 'gamma', [c], gamma),
      g.floats(owner, 'beta', [c], beta),
      g.floats(owner, 'moving_mean', [c], param(layer, 'moving_mean')!.value),
      g.floats(owner, 'moving_variance', [c], param(layer, 'moving_variance')!.value),
    ];
    return { ...flow, name: g.node(owner, 'BatchNormalization', inputs, [float('epsilon', layer.epsilon)]) };
  }
  const { scale, shift } = batchNormAffine(layer);
  const y = g.node(owner, 'Mul', [flow.name, g.floats(owner, 'scale', [c], scale)]);
  return { ...flow, name: g.node(owner, 'Add', [y, g.floats(owner, 'shift', [c], shift)]) };
}
