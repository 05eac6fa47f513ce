// Functional topologies ↔ graphs, as TF.js and Keras 2 write them: `config.layers[]` each with
// `inbound_nodes` ([[[layerName, nodeIndex, tensorIndex, kwargs], …]], one list per call),
// `input_layers` and `output_layers` ([[layerName, nodeIndex, tensorIndex]]).
import { InputLayer } from '../layers/input-layer.js';
import { ModelLayer } from '../model/model-layer.js';
import type { Layer } from '../layers/layer.js';
import type { Node, SymbolicTensor } from '../layers/symbolic.js';
import { layerFromKeras, layerToKeras } from './layer-config.js';

/**
 * The `modelTopology` of a functional model: its layers in `model.layers` order, each with one
 * inbound node per call (`[layerName, nodeIndex, tensorIndex, kwargs]` per input), and its
 * input and output layers. `nodeIndex` numbers a call among its layer's calls in the model.
 *
 * @example
 * functionalTopology(m.name, m.layers, m.nodes, m.inputs, m.outputs, (n) => m.nodeIndex(n)).config.output_layers; // [['dense', 0, 0]]
 */
export function functionalTopology(
  name: string, layers: readonly Layer[], nodes: readonly Node[], inputs: readonly SymbolicTensor[], outputs: readonly SymbolicTensor[],
  nodeIndex: (node: Node) => number,
): { class_name: string; config: Record<string, unknown> } {
  const ref = (t: SymbolicTensor) => [t.node.layer.name, nodeIndex(t.node), 0];
  const entries = layers.map((layer) => ({
    ...layerToKeras(layer, false),
    name: layer.name,
    inbound_nodes: nodes.filter((n) => n.layer === layer && n.inputs.length).map((n) => n.inputs.map((t) => [...ref(t), {}])),
  }));
  return { class_name: 'Functional', config: { name, layers: entries, input_layers: inputs.map(ref), output_layers: outputs.map(ref) } };
}

/** `[layerName, nodeIndex, tensorIndex, …]` of a topology, checked: tensor index 0 (every layer has one output). */
function layerRef(v: unknown, where: string): { name: string; node: number } {
  if (Array.isArray(v) && v.length === 1 && Array.isArray(v[0])) v = v[0];
  if (!Array.isArray(v) || typeof v[0] !== 'string') throw new Error(`${where}: expected [layerName, nodeIndex, tensorIndex], got ${JSON.stringify(v)?.slice(0, 80)}`);
  const node = v[1] ?? 0;
  if (!Number.isInteger(node) || node < 0) throw new Error(`${where}: node index of layer '${v[0]}' must be an integer ≥ 0, got ${JSON.stringify(v[1])}`);
  if ((v[2] ?? 0) !== 0) throw new Error(`${where}: refers to output ${v[2]} of layer '${v[0]}', which has one output`);
  return { name: v[0], node };
}

/**
 * Rebuilds the graph of a functional topology's `config` (TF.js / Keras 2 form): makes each
 * layer (`nested` builds the entries that are models themselves), applies it to its inbound
 * layers' outputs (building it, so shapes are checked), and returns the symbolic inputs and
 * outputs for `new Model`.
 */
export function graphFromKeras(
  config: Record<string, unknown>,
  nested: (entry: unknown, index: number) => Layer | null = () => null,
): { inputs: SymbolicTensor[]; outputs: SymbolicTensor[] } {
  const entries = config.layers;
  if (!Array.isArray(entries)) throw new Error('the functional topology has no layers list');
  const made = new Map<string, { layer: Layer; calls: { name: string; node: number }[][] }>();
  entries.forEach((entry, i) => {
    const inner = nested(entry, i);
    const read = inner ? { layer: inner } : layerFromKeras(entry, i);
    const layer = 'layer' in read ? read.layer : new InputLayer({ shape: read.inputShape, name: read.name });
    if (made.has(layer.name)) throw new Error(`layer ${i}: a second layer named '${layer.name}'`);
    const nodes = (entry as { inbound_nodes?: unknown }).inbound_nodes ?? [];
    if (!Array.isArray(nodes)) throw new Error(`layer ${i} ('${layer.name}'): inbound_nodes must be a list, got ${JSON.stringify(nodes).slice(0, 80)}`);
    const calls = nodes.map((node, k) => {
      if (!Array.isArray(node)) throw new Error(`layer ${i} ('${layer.name}'): inbound node ${k} in an unsupported form (Keras 3's { args, kwargs }?): ${JSON.stringify(node).slice(0, 80)}`);
      return node.map((r, j) => layerRef(r, `layer ${i} ('${layer.name}') node ${k} input ${j}`));
    });
    made.set(layer.name, { layer, calls });
  });
  // A layer's calls are made in node order, so each gets the node index the topology gives it.
  const outputs = new Map<string, SymbolicTensor[]>();
  const resolve = (ref: { name: string; node: number }, path: string[]): SymbolicTensor => {
    const m = made.get(ref.name);
    if (!m) throw new Error(`layer '${path[path.length - 1]}' takes the output of '${ref.name}', which the topology does not list`);
    const done = outputs.get(ref.name) ?? [];
    outputs.set(ref.name, done);
    if (m.layer instanceof InputLayer) {
      if (ref.node !== 0) throw new Error(`layer '${path[path.length - 1]}' takes node ${ref.node} of input layer '${ref.name}', which has one`);
      return m.layer.output;
    }
    // A nested model's calls are numbered from 1 (node 0 is its own graph, in Keras and TF.js).
    if (m.layer instanceof ModelLayer && ref.node > 0) ref = { name: ref.name, node: ref.node - 1 };
    if (ref.node >= m.calls.length) throw new Error(`layer '${path[path.length - 1]}' takes node ${ref.node} of layer '${ref.name}', which has ${m.calls.length} inbound node(s)`);
    while (done.length <= ref.node) {
      const k = done.length;
      const here = `${ref.name}[${k}]`;
      if (path.includes(here)) throw new Error(`the graph has a cycle through layer '${ref.name}'`);
      if (m.calls[k].length === 0) throw new Error(`layer '${ref.name}' node ${k} has no inputs`);
      const xs = m.calls[k].map((r) => resolve(r, [...path, here]));
      if (done.length > k) continue;
      done.push(m.layer.apply(m.layer.takesSeveralInputs ? xs : xs.length === 1 ? xs[0] : xs));
    }
        return done[ref.node];
  };
  const refs = (key: string): SymbolicTensor[] => {
    const v = config[key];
    if (!Array.isArray(v) || v.length === 0) throw new Error(`the functional topology has no ${key}`);
    return v.map((r, k) => resolve(layerRef(r, `${key}[${k}]`), [key]));
  };
  const inputs = refs('input_layers');
  return { inputs, outputs: refs('output_layers') };
}
