// The merge layers as ONNX nodes. Their inputs must share one layout: when they differ, the
// layout that needs the fewest new Transposes wins (a tensor converted before costs none; ties
// go to NCHW, where the convolutions around a merge work). Element-wise merges keep that layout;
// Concatenate joins along the matching axis of it, so joining channels in NCHW is axis 1 and
// needs no Transpose either.
import type { Concatenate } from '../../layers/merge.js';
import type { Layer } from '../../layers/layer.js';
import { int, NCHW_AXIS, type Flow, type GraphBuilder } from './graph.js';

/**
 * Element-wise merges by class name: the ONNX op each maps to, and whether that op takes any
 * number of inputs (else a left fold of binary nodes, as the layers compute). Subtract, Multiply,
 * Average, Maximum and Minimum are matched by name so that the exporter needs no import of them.
 */
export const ELEMENTWISE_MERGES: Readonly<Record<string, { opType: string; variadic: boolean }>> = {
  Add: { opType: 'Add', variadic: false },
  Subtract: { opType: 'Sub', variadic: false },
  Multiply: { opType: 'Mul', variadic: false },
  Average: { opType: 'Mean', variadic: true },
  Maximum: { opType: 'Max', variadic: true },
  Minimum: { opType: 'Min', variadic: true },
};

/** The inputs in one layout, converting the fewest. */
export function oneLayout(g: GraphBuilder, xs: readonly Flow[], owner: string): Flow[] {
  if (xs.every((x) => x.layout === xs[0]!.layout)) return [...xs];
  const cost = (layout: Flow['layout']) => xs.filter((x) => x.layout !== layout && !g.hasConversion(x.name)).length;
  const layout = cost('nhwc') < cost('nchw') ? 'nhwc' : 'nchw';
  return xs.map((x) => g.as(x, layout, owner));
}

/** An element-wise merge (see {@link ELEMENTWISE_MERGES}): one variadic node, or a chain of binary ones. */
export function elementwiseMerge(g: GraphBuilder, layer: Layer, xs: readonly Flow[], out: readonly number[]): Flow {
  const { opType, variadic } = ELEMENTWISE_MERGES[layer.className]!;
  const ys = oneLayout(g, xs, layer.name);
  let y: string;
  if (variadic) {
    y = g.node(layer.name, opType, ys.map((x) => x.name));
  } else {
    y = ys[0]!.name;
    for (let i = 1; i < ys.length; i++) y = g.node(layer.name, opType, [y, ys[i]!.name]);
  }
  return { name: y, shape: out, layout: ys[0]!.layout };
}

/** Concatenate on its axis (counted with the batch axis as 0 and in NHWC order, as Keras), mapped to the inputs' layout. */
export function concatenate(g: GraphBuilder, layer: Concatenate, xs: readonly Flow[], out: readonly number[]): Flow {
  const ys = oneLayout(g, xs, layer.name);
  const rank = out.length + 1;
  const nhwcAxis = layer.axis < 0 ? layer.axis + rank : layer.axis;
  const axis = ys[0]!.layout === 'nchw' ? NCHW_AXIS[nhwcAxis]! : nhwcAxis;
  return { name: g.node(layer.name, 'Concat', ys.map((x) => x.name), [int('axis', axis)]), shape: out, layout: ys[0]!.layout };
}
