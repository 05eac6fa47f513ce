// Functional topologies ↔ graphs, as TF.js and Keras 2 write them: `config.layers[]` each with
// `inbound_nodes` ([[[layerName, nodeIndex, tensorIndex, kwargs], …]], one list per call),
// `input_layers` and `output_layers` ([[layerName, nodeIndex, tensorIndex]]).
import { InputLayer } from '../layers/input-layer.js';
import type { Layer } from '../layers/layer.js';
import type { Node, SymbolicTensor } from '../layers/symbolic.js';
import { layerFromKeras, layerToKeras } from './layer-config.js';

/**
 * The `modelTopology` of a functional model: its layers in `model.layers` order with their
 * inbound nodes, and its input and output layers.
 *
 * @example
 * functionalTopology(m.name, nodes, m.inputs, m.outputs).config.output_layers; // [['dense', 0, 0]]
 */
export function functionalTopology(
  name: string, nodes: readonly Node[], inputs: readonly SymbolicTensor[], outputs: readonly SymbolicTensor[],
): { class_name: string; config: Record<string, unknown> } {
  const layers = nodes.map((node) => ({
    ...layerToKeras(node.layer, false),
    name: node.layer.name,
    inbound_nodes: node.inputs.length ? [node.inputs.map((t) => [t.node.layer.name, 0, 0, {}])] : [],
  }));
  const ref = (t: SymbolicTensor) => [t.node.layer.name, 0, 0];
  return { class_name: 'Functional', config: { name, layers, input_layers: inputs.map(ref), output_layers: outputs.map(ref) } };
}

/** `[layerName, nodeIndex, tensorIndex, …]` of a topology, checked: node and tensor index 0 (no shared layers). */
function layerRef(v: unknown, where: string): string {
  if (Array.isArray(v) && v.length === 1 && Array.isArray(v[0])) v = v[0];
  if (!Array.isArray(v) || typeof v[0] !== 'string') throw new Error(`${where}: expected [layerName, nodeIndex, tensorIndex], got ${JSON.stringify(v)?.slice(0, 80)}`);
  if ((v[1] ?? 0) !== 0 || (v[2] ?? 0) !== 0) {
    throw new Error(`${where}: refers to call ${v[1]} output ${v[2]} of layer '${v[0]}'; shared layers (called more than once) are not supported`);
  }
  return v[0];
}

/**
 * Rebuilds the graph of a functional topology's `config` (TF.js / Keras 2 form): makes each
 * layer, applies it to its inbound layers' outputs (building it, so shapes are checked), and
 * returns the symbolic inputs and outputs for `new Model`.
 */
export function graphFromKeras(config: Record<string, unknown>): { inputs: SymbolicTensor[]; outputs: SymbolicTensor[] } {
  const entries = config.layers;
  if (!Array.isArray(entries)) throw new Error('the functional topology has no layers list');
  const made = new Map<string, { layer: Layer; inbound: string[] }>();
  entries.forEach((entry, i) => {
    const read = layerFromKeras(entry, i);
    const layer = 'layer' in read ? read.layer : new InputLayer({ shape: read.inputShape, name: read.name });
    if (made.has(layer.name)) throw new Error(`layer ${i}: a second layer named '${layer.name}'`);
    const nodes = (entry as { inbound_nodes?: unknown }).inbound_nodes ?? [];
    if (!Array.isArray(nodes) || nodes.length > 1) {
      throw new Error(`layer ${i} ('${layer.name}'): ${Array.isArray(nodes) ? `is called ${nodes.length} times` : 'inbound_nodes must be a list'}; shared layers are not supported`);
    }
    const node = nodes[0] ?? [];
    if (!Array.isArray(node)) throw new Error(`layer ${i} ('${layer.name}'): inbound node in an unsupported form (Keras 3's { args, kwargs }?): ${JSON.stringify(node).slice(0, 80)}`);
    made.set(layer.name, { layer, inbound: node.map((r, k) => layerRef(r, `layer ${i} ('${layer.name}') input ${k}`)) });
  });
  const outputs = new Map<string, SymbolicTensor>();
  const resolve = (name: string, path: string[]): SymbolicTensor => {
    const hit = outputs.get(name);
    if (hit) return hit;
    const m = made.get(name);
    if (!m) throw new Error(`layer '${path[path.length - 1]}' takes the output of '${name}', which the topology does not list`);
    if (path.includes(name)) throw new Error(`the graph has a cycle through layer '${name}'`);
    let out: SymbolicTensor;
    if (m.layer instanceof InputLayer) out = m.layer.output;
    else {
      if (m.inbound.length === 0) throw new Error(`layer '${name}' has no inbound nodes`);
      const xs = m.inbound.map((n) => resolve(n, [...path, name]));
      out = m.layer.apply(m.layer.takesSeveralInputs ? xs : xs.length === 1 ? xs[0] : xs);
    }
    outputs.set(name, out);
    return out;
  };
  const refs = (key: string): SymbolicTensor[] => {
    const v = config[key];
    if (!Array.isArray(v) || v.length === 0) throw new Error(`the functional topology has no ${key}`);
    return v.map((r, k) => resolve(layerRef(r, `${key}[${k}]`), [key]));
  };
  const inputs = refs('input_layers');
  return { inputs, outputs: refs('output_layers') };
}
