// The functional API's graph: a SymbolicTensor is the output of one Node, a Node one call of a
// layer on the SymbolicTensors it consumed (`layer.apply`). Shapes are sample shapes (no batch
// axis), inferred when the layer is applied.
import type { Layer } from './layer.js';

let nextId = 0;

/**
 * A placeholder for the batch a layer will output: its sample shape and the node that makes it.
 * Made by `input()` and `layer.apply(symbolicTensor)`; `model({ inputs, outputs })` takes them.
 *
 * @example
 * const x = input({ shape: [32, 32, 3] });
 * const y = new layers.Conv2D({ filters: 8, kernelSize: 3 }).apply(x); // y.shape: [null, 30, 30, 8]
 */
export class SymbolicTensor {
  readonly id = nextId++;
  /** Sample shape, without the batch axis. */
  readonly sampleShape: readonly number[];

  constructor(
    sampleShape: readonly number[],
    /** The call that produces this tensor. */
    readonly node: Node,
    readonly name: string,
  ) {
    this.sampleShape = [...sampleShape];
  }

  /** The shape as TF.js prints it, with the batch axis null. */
  get shape(): (number | null)[] {
    return [null, ...this.sampleShape];
  }

  /** The layer whose call produces this tensor. */
  get sourceLayer(): Layer {
    return this.node.layer;
  }
}

/** One call of a layer: the tensors it consumed, and the one it produced. */
export class Node {
  output!: SymbolicTensor;
  /** This call's place among the layer's calls (Keras' node index: `layer[nodeIndex][0]`). */
  readonly nodeIndex: number;
  /** What runs this call: the layer itself for its first call, `layer.makeCallee()` for a further call of a shared layer. */
  readonly callee: Layer;

  constructor(
    readonly layer: Layer,
    readonly inputs: readonly SymbolicTensor[],
  ) {
    this.nodeIndex = layer.inboundNodes.length;
    this.callee = this.nodeIndex === 0 ? layer : layer.makeCallee();
  }
}

/** The layer calls that `outputs` depends on, each after the calls it consumes (Keras' topological order). */
export function nodesBetween(outputs: readonly SymbolicTensor[]): Node[] {
  const order: Node[] = [];
  const done = new Set<Node>();
  const visiting = new Set<Node>();
  const visit = (node: Node): void => {
    if (done.has(node)) return;
    if (visiting.has(node)) throw new Error(`model: the graph has a cycle through layer '${node.layer.name}'`);
    visiting.add(node);
    for (const t of node.inputs) visit(t.node);
    visiting.delete(node);
    done.add(node);
    order.push(node);
  };
  for (const t of outputs) visit(t.node);
  return order;
}
