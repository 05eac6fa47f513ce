// Building an ONNX graph from tscnn layers: nodes and initializers with unique names, and the
// current tensor's layout. tscnn is NHWC; ONNX's Conv, MaxPool and BatchNormalization are NCHW.
// A rank-4 tensor is transposed only where the next op needs the other layout (Conv/MaxPool/
// BatchNormalization want NCHW; Flatten, Dense and the graph output want NHWC), so a run of
// convolutions and pools stays NCHW between one Transpose at the input and one before Flatten.
import { AttributeType, DataType, floatBytes, int64Bytes, type AttributeMsg, type NodeMsg, type TensorMsg } from './proto.js';

/** The tensor flowing between layers: its graph name, sample shape (NHWC order) and layout. */
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

/** Nodes and initializers of one graph, with unique names. */
export class GraphBuilder {
  readonly nodes: NodeMsg[] = [];
  readonly initializers: TensorMsg[] = [];
  private readonly names = new Set<string>(['input', 'output']);

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

  /** The flow in NCHW (a Transpose when it is NHWC). Only for rank-4 tensors. */
  toNchw(flow: Flow, owner: string): Flow {
    if (flow.layout === 'nchw') return flow;
    return { ...flow, name: this.node(owner, 'Transpose', [flow.name], [ints('perm', [0, 3, 1, 2])]), layout: 'nchw' };
  }

  /** The flow in NHWC (a Transpose when it is NCHW). */
  toNhwc(flow: Flow, owner: string): Flow {
    if (flow.layout === 'nhwc') return flow;
    return { ...flow, name: this.node(owner, 'Transpose', [flow.name], [ints('perm', [0, 2, 3, 1])]), layout: 'nhwc' };
  }
}
