// Writes a model in TensorFlow.js' LayersModel format. Imports the model as a type only, so
// layers-model.ts can import this module for `model.save` without an import cycle.
import type { LayersModel } from '../model/layers-model.js';
import { writeDirAtomic } from './atomic.js';
import { isBrowserURL, saveToBrowser } from './browser.js';
import { trainingConfigs } from './training-config.js';
import type { ModelJSON, WeightsManifestEntry } from './types.js';

/** Name of the weights file next to `model.json`. */
export const WEIGHTS_FILE = 'weights.bin';
/** Name of the topology-and-manifest file. */
export const MODEL_FILE = 'model.json';

/** The keras_version TF.js writes; readers key nothing on it, but Keras' converter expects the field. */
const KERAS_VERSION = 'tfjs-layers 4.22.0';
const GENERATED_BY = 'tscnn 0.1.0';

/**
 * The model as `model.json` content and the bytes of `weights.bin`: weights little-endian
 * float32, concatenated in manifest order (tscnn's `getWeights()` order), each entry named
 * `layer/weight` as TF.js names it. Draws initial weights first if the model has none yet.
 * The optimizer state (momentum, Adam moments, step count) is not saved, as in TF.js.
 *
 * @example
 * const { modelJSON, weights } = toMemory(model);
 * const again = await loadModel({ modelJSON, weights });
 */
export function toMemory(model: LayersModel): { modelJSON: ModelJSON; weights: ArrayBuffer } {
  if (model.layers.length === 0) throw new Error(`saveModel: the model '${model.name}' has no layers`);
  const topology = model.toKerasTopology();
  const values = model.getWeights();
  const params = model.params();
  const bad = firstNonFinite(model);
  if (bad) {
    throw new Error(`saveModel: weight '${bad.name}' holds ${bad.value} at index ${bad.index}; not saved, since loadModel refuses non-finite weights (training diverged: lower the learning rate)`);
  }
  const specs: WeightsManifestEntry[] = params.map((p) => ({ name: p.name, shape: [...p.shape], dtype: 'float32' }));
  const total = values.reduce((a, w) => a + w.size, 0);
  const out = new Float32Array(total);
  let offset = 0;
  for (const w of values) {
    out.set(w.values, offset);
    offset += w.size;
  }
  const modelJSON: ModelJSON = {
    modelTopology: { ...topology, keras_version: KERAS_VERSION, backend: 'tensor_flow.js' },
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
    format: 'layers-model',
    generatedBy: GENERATED_BY,
    convertedBy: null,
  };
  if (model.optimizer && model.loss) {
    const { trainingConfig, tscnn } = trainingConfigs({ optimizer: model.optimizer, loss: model.loss, metrics: model.metrics });
    if (trainingConfig) modelJSON.trainingConfig = trainingConfig;
    modelJSON.userDefinedMetadata = { tscnn: { trainingConfig: tscnn } };
  }
  return { modelJSON, weights: toLittleEndian(out) };
}

/** The first weight value that is NaN or ±Infinity, or null when every weight is finite. */
export function firstNonFinite(model: LayersModel): { name: string; index: number; value: number } | null {
  for (const p of model.params()) {
    const v = p.value;
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return { name: p.name, index: i, value: v[i] };
  }
  return null;
}

/** Float32 values as little-endian bytes, whatever the machine's byte order. */
function toLittleEndian(values: Float32Array): ArrayBuffer {
  const buffer = new ArrayBuffer(values.length * 4);
  const view = new DataView(buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return buffer;
}

/**
 * Saves the model into directory `dir` as `model.json` + `weights.bin`, readable by
 * `loadModel` and by TF.js' `tf.loadLayersModel`. The write is atomic: a reader (or a crash)
 * sees the previous save or the new one, never a mix. An existing `dir` holding other files
 * is refused. In a browser, `dir` is `'indexeddb://name'` (TF.js' IndexedDB layout: `tf.loadLayersModel`
 * reads it) or `'downloads://name'` (the page downloads `name.json` and `name.weights.bin`).
 *
 * @example
 * await saveModel(model, 'models/cats-vs-dogs');
 * await saveModel(model, 'indexeddb://cats-vs-dogs'); // in a browser
 */
export async function saveModel(model: LayersModel, dir: string): Promise<void> {
  if (typeof dir !== 'string' || dir === '') throw new Error(`saveModel: expected a directory path, got ${JSON.stringify(dir)}`);
  const { modelJSON, weights } = toMemory(model);
  if (isBrowserURL(dir)) return saveToBrowser(dir, modelJSON, weights);
  await writeDirAtomic(dir, { [MODEL_FILE]: JSON.stringify(modelJSON), [WEIGHTS_FILE]: new Uint8Array(weights) }, 'saveModel');
}
