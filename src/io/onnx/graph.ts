// Building an ONNX graph from tscnn layers: nodes and initializers with unique names, and each
// tensor's layout. tscnn is NHWC; ONNX's Conv, MaxPool, AveragePool and BatchNormalization are
// NCHW. A rank-4 tensor keeps the layout its producer gave it, and is transposed only where a
// consumer needs the other one (convolutions and window pools want NCHW; Flatten, Reshape, Dense
// and the graph outputs want NHWC; element-wise ops, merges, padding and global pools take either).
// Each conversion is made once per tensor and remembered both ways, so a tensor read by several
// consumers is transposed at most once, and converting back returns the original tensor.
import { AttributeType, DataType, floatBytes, int64Bytes, type AttributeMsg, type NodeMsg, type TensorMsg } from './proto.js';

/** A tensor of the graph: its name, sample shape (NHWC order) and layout. */
export interface Flow {
  name: string;
  /** Sample shape without the batch axis, in tscnn's (NHWC) order whatever the layout. */
  shape: readonly number[];
  /** Layout of a rank-4 tensor in the graph; other ranks are always 'nhwc' (channels last). */
  layout: 'nhwc' | 'nchw';
}

/** An integer attribute. */
export const int = (name: string, i: number): AttributeMsg => ({ name, type: AttributeType.INT, i });
/** An integer-list attribute. */
export const ints = (name: string, values: readonly number[]): AttributeMsg => ({ name, type: AttributeType.INTS, ints: [...values] });
/** A float attribute. */
export const float = (name: string, f: number): AttributeMsg => ({ name, type: AttributeType.FLOAT, f });

/** Where an NHWC sample axis (1 = height, 2 = width, 3 = channels; 0 the batch) sits in NCHW. */
export const NCHW_AXIS = [0, 2, 3, 1] as const;

/** Nodes and initializers of one graph, with unique names. */
export class GraphBuilder {
  readonly nodes: NodeMsg[] = [];
  readonly initializers: TensorMsg[] = [];
  private readonly names: Set<string>;
  /** Per tensor name, the same tensor in the other layout, once made. */
  private readonly converted = new Map<string, Flow>();

  /** `reserved`: names the graph's inputs and outputs will have. */
  constructor(reserved: readonly string[] = []) {
    this.names = new Set(reserved);
  }

  /** A name not used yet, `base` itself when free. */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Adds a node named `owner/opType` and returns its (single) output's name. */
  node(owner: string, opType: string, input: string[], attribute: AttributeMsg[] = []): string {
    const name = this.unique(`${owner}/${opType}`);
    const output = this.unique(`${name}:0`);
    this.nodes.push({ name, opType, input, output: [output], attribute });
    return output;
  }

  /** Adds a float32 initializer and returns its name. */
  floats(owner: string, what: string, dims: readonly number[], values: ArrayLike<number>): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`exportOnnx: internal error, ${owner}/${what} has ${values.length} values for dims [${dims.join(', ')}]`);
    const name = this.unique(`${owner}/${what}`);
    this.initializers.push({ name, dims: [...dims], dataType: DataType.FLOAT, rawData: floatBytes(values) });
    return name;
  }

  /** Adds an int64 initializer and returns its name. */
  int64s(owner: string, what: string, values: readonly number[]): string {
    const name = this.unique(`${owner}/${what}`);
    this.initializers.push({ name, dims: [values.length], dataType: DataType.INT64, rawData: int64Bytes(values) });
    return name;
  }

  /** The flow in `layout`: itself, the conversion made before, or a new Transpose. Rank-4 tensors only for 'nchw'. */
  as(flow: Flow, layout: Flow['layout'], owner: string): Flow {
    if (flow.layout === layout) return flow;
    const known = this.converted.get(flow.name);
    if (known) return known;
    const perm = layout === 'nchw' ? [0, 3, 1, 2] : [0, 2, 3, 1];
    const out: Flow = { ...flow, name: this.node(owner, 'Transpose', [flow.name], [ints('perm', perm)]), layout };
    this.converted.set(flow.name, out);
    this.converted.set(out.name, flow);
    return out;
  }

  /** The flow in NCHW. Only for rank-4 tensors. */
  toNchw(flow: Flow, owner: string): Flow {
    return this.as(flow, 'nchw', owner);
  }

  /** The flow in NHWC. */
  toNhwc(flow: Flow, owner: string): Flow {
    return this.as(flow, 'nhwc', owner);
  }

  /** Whether `name` already has a conversion (converting it costs no new node). */
  hasConversion(name: string): boolean {
    return this.converted.has(name);
  }
}
