// Reads a model in TensorFlow.js' LayersModel format (written by tscnn, TF.js or the Keras
// converter) into a built Sequential or functional Model with its weights. Everything is validated before the model
// is returned; any problem throws an error naming the file.
import { withWeightBudget, type Layer } from '../layers/layer.js';
import { Sequential } from '../model/sequential.js';
import { Model } from '../model/functional.js';
import type { LayersModel } from '../model/layers-model.js';
import { graphFromKeras } from './functional-config.js';
import { Tensor, type Shape } from '../tensor.js';
import { parseSibling, saveIsLive } from './atomic.js';
import { layerFromKeras } from './layer-config.js';
import { MODEL_FILE } from './save.js';
import { loadFromIndexedDB, readBrowserFiles, type BrowserFilesSource } from './browser.js';
import { compiledFromTrainingConfig, compiledFromTscnn, type Compiled, type TscnnTrainingConfig } from './training-config.js';
import type { ModelArtifactsInMemory, ModelJSON, TrainingConfig, WeightsManifestEntry } from './types.js';
import { lazyFunctions, nodeBuiltin } from '../util/node-builtins.js';

// Node built-ins fetched on first call (see util/node-builtins.ts).
const fs = lazyFunctions('node:fs/promises', ['readFile', 'readdir', 'realpath', 'stat'], 'loadModel');
const { basename, dirname, isAbsolute, join, normalize, relative } = lazyFunctions('node:path', ['basename', 'dirname', 'isAbsolute', 'join', 'normalize', 'relative'], 'loadModel');

/**
 * Where a model comes from: a directory (or its `model.json` path), `'indexeddb://name'` in a
 * browser, files the user picked ({@link browserFiles}), or the two parts in memory.
 */
export type ModelSource = string | ModelArtifactsInMemory | BrowserFilesSource;

/** Bytes per element of each manifest dtype (quantized entries use their storage dtype). */
const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Weight values (64 MB) a topology may declare beyond its manifest before building stops. */
const WEIGHT_SLACK = 1 << 24;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Loads a saved model: from a directory holding `model.json` and its weight files (or the path
 * of `model.json` itself), or from `{ modelJSON, weights }` in memory. Returns a built
 * `Sequential` (or functional `Model`, for a Functional / Model topology) with the saved weights, compiled with the saved loss, optimizer and metrics
 * when the file has a training config tscnn understands (otherwise uncompiled, with a
 * warning). The optimizer starts fresh: its state is not in the format.
 *
 * @example
 * const model = await loadModel('models/cats-vs-dogs');
 * const p = await model.predict(x); // [batch, 1]
 * const again = await loadModel('indexeddb://cats-vs-dogs'); // in a browser
 */
export async function loadModel(source: ModelSource): Promise<LayersModel> {
  if (typeof source === 'string' && source.startsWith('indexeddb://')) source = await loadFromIndexedDB(source);
  if (typeof source === 'string') return loadFromDirectory(source);
  if (isObject(source) && 'browserFiles' in source) source = await readBrowserFiles(source as BrowserFilesSource);
  if (!isObject(source) || !('modelJSON' in source) || !('weights' in source)) {
    throw new Error("loadModel: expected a directory path, 'indexeddb://name', browserFiles([...]) or { modelJSON, weights }");
  }
  let modelJSON: unknown = source.modelJSON;
  if (typeof modelJSON === 'string') modelJSON = parseJSON(modelJSON, 'modelJSON');
  const w = source.weights as unknown;
  let bytes: Uint8Array;
  if (w instanceof ArrayBuffer) bytes = new Uint8Array(w);
  else if (ArrayBuffer.isView(w)) bytes = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
  else throw new Error(`loadModel: weights must be an ArrayBuffer or a Uint8Array, got ${String(w)}`);
  return fromArtifacts(modelJSON, bytes, 'modelJSON', 'weights');
}

function parseJSON(text: string, label: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`loadModel: ${label}: not valid JSON (${(e as Error).message})`);
  }
}

async function loadFromDirectory(path: string): Promise<LayersModel> {
  const isJsonPath = path.endsWith('.json') && (await fs.stat(path).then((s) => s.isFile(), () => false));
  const dir = isJsonPath ? dirname(path) : path;
  const modelPath = isJsonPath ? path : join(dir, MODEL_FILE);
  const { modelJSON, bytes, files, label } = await readConsistent(dir, modelPath);
  return fromArtifacts(modelJSON, bytes, label, files.join(' + ') || '(no weight files)');
}

type Artifacts = { modelJSON: unknown; bytes: Uint8Array; files: string[]; label: string };

/** A read that failed because a save replaced the directory meanwhile; retried. */
class Raced extends Error {}

/**
 * Reads `model.json` and its weight files as one version. A save swaps the whole directory
 * (src/io/atomic.ts): when the directory's inode changes during the read, or a file vanishes,
 * the read is repeated. When the directory is missing because a save was killed between its
 * two renames, the previous version is read from where that save left it (with a warning).
 */
async function readConsistent(dir: string, modelPath: string): Promise<Artifacts> {
  const deadline = Date.now() + 5000;
  for (let attempt = 0; ; attempt++) {
    const before = await fs.stat(dir).catch(() => null);
    try {
      if (!before) {
        const recovered = await previousVersion(dir);
        if (recovered === 'live') throw new Raced();
        if (recovered) {
          const got = await readArtifacts(recovered, join(recovered, basename(modelPath)), async () => true);
          console.warn(`loadModel: '${dir}' is missing: a save was interrupted between its renames; loaded the previous version from '${recovered}' (the next save to '${dir}' puts it back)`);
          return got;
        }
      }
      const changed = async (): Promise<boolean> => {
        const now = await fs.stat(dir).catch(() => null);
        return before !== null && (!now || now.ino !== before.ino);
      };
      const got = await readArtifacts(dir, modelPath, changed);
      if (await changed()) throw new Raced();
      return got;
    } catch (e) {
      if (!(e instanceof Raced) || Date.now() > deadline) {
        if (e instanceof Raced) throw new Error(`loadModel: ${modelPath}: the directory kept changing during ${attempt + 1} reads (saves in progress)`);
        throw e;
      }
      await new Promise((r) => setTimeout(r, Math.min(2 + attempt * 2, 50)));
    }
  }
}

/** The previous version left by an interrupted save of `dir`, 'live' while that save may still finish, or null. */
async function previousVersion(dir: string): Promise<string | 'live' | null> {
  const parent = dirname(dir);
  const names = (await fs.readdir(parent).catch(() => [] as string[])).sort();
  const olds = names.map((n) => ({ n, s: parseSibling(dir, n) })).filter((e) => e.s?.kind === 'old');
  if (olds.some((e) => saveIsLive(e.s!.tag, e.s!.pid))) return 'live';
  return olds.length ? join(parent, olds[olds.length - 1].n) : null;
}

/** Reads model.json and the weight files it lists; a file that vanished as the folder was replaced (`changed`) is a {@link Raced}. */
async function readArtifacts(dir: string, modelPath: string, changed: () => Promise<boolean>): Promise<Artifacts> {
  let text: string;
  try {
    text = await fs.readFile(modelPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && (await changed())) throw new Raced();
    throw new Error(`loadModel: ${modelPath}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const modelJSON = parseJSON(text, modelPath);
  const manifest = checkManifest(modelJSON, modelPath);
  const parts: Uint8Array[] = [];
  const files: string[] = [];
  const realDir = await fs.realpath(dir).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' && (await changed())) throw new Raced();
    throw new Error(`loadModel: ${dir}: cannot read (${e.code ?? e.message})`);
  });
  for (const group of manifest) {
    for (const p of group.paths) {
      const rel = normalize(p);
      if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${nodeBuiltin('node:path', 'loadModel').sep}`)) throw new Error(`loadModel: ${modelPath}: weight path '${p}' points outside ${dir}`);
      const file = join(dir, rel);
      files.push(file);
      try {
        const real = await fs.realpath(file);
        // A symlink (or a linked folder) leading out of the model's folder is refused before reading: its size would leak into errors.
        if (relative(realDir, real).startsWith('..') || isAbsolute(relative(realDir, real))) {
          throw new Error(`loadModel: ${file}: is a link to a file outside ${dir}; weight files must lie inside the model's folder`);
        }
        parts.push(new Uint8Array(await fs.readFile(real)));
      } catch (e) {
        if (!(e as NodeJS.ErrnoException).code) throw e;
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' && (await changed())) throw new Raced();
        throw new Error(`loadModel: ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}), listed in ${modelPath}`);
      }
    }
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    bytes.set(p, offset);
    offset += p.length;
  }
  return { modelJSON, bytes, files, label: modelPath };
}

/** Checks the manifest's shape (groups of { paths, weights }); returns it typed. */
function checkManifest(modelJSON: unknown, label: string): ModelJSON['weightsManifest'] {
  if (!isObject(modelJSON)) throw new Error(`loadModel: ${label}: expected a JSON object with modelTopology and weightsManifest`);
  const manifest = modelJSON.weightsManifest;
  if (!Array.isArray(manifest)) throw new Error(`loadModel: ${label}: weightsManifest is missing or not a list`);
  manifest.forEach((g, i) => {
    if (!isObject(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights) || g.paths.some((p) => typeof p !== 'string')) {
      throw new Error(`loadModel: ${label}: weightsManifest[${i}] must be { paths: string[], weights: [...] }`);
    }
  });
  return manifest as ModelJSON['weightsManifest'];
}

/** Validates everything and builds the model; throws naming `modelLabel` or `weightsLabel`. */
function fromArtifacts(modelJSON: unknown, bytes: Uint8Array, modelLabel: string, weightsLabel: string): LayersModel {
  const fail = (label: string, msg: string): never => {
    throw new Error(`loadModel: ${label}: ${msg}`);
  };
  const manifest = checkManifest(modelJSON, modelLabel);
  const json = modelJSON as unknown as ModelJSON;
  if (json.format !== undefined && json.format !== 'layers-model') fail(modelLabel, `format '${json.format}' is not a layers model (only 'layers-model' can be loaded)`);

  let topology = json.modelTopology as unknown;
  if (isObject(topology) && isObject(topology.model_config)) topology = topology.model_config;
  if (!isObject(topology)) return fail(modelLabel, 'modelTopology is missing or not an object');
  const functional = topology.class_name === 'Functional' || topology.class_name === 'Model';
  if (topology.class_name !== 'Sequential' && !functional) {
    fail(modelLabel, `only Sequential and functional (Functional, Model) topologies can be loaded, this one is a ${JSON.stringify(topology.class_name)}`);
  }
  const cfg = topology.config;
  const entries = functional ? [] : Array.isArray(cfg) ? cfg : isObject(cfg) && Array.isArray(cfg.layers) ? cfg.layers : fail(modelLabel, 'the Sequential topology has no layers list');
  if (functional && !isObject(cfg)) fail(modelLabel, 'the functional topology has no config object');
  const name = isObject(cfg) && typeof cfg.name === 'string' && cfg.name !== '' ? cfg.name : functional ? 'model' : 'sequential';

  // Weights: walk the manifest to find each entry's byte range, then match model params by name.
  const specs = manifest.flatMap((g) => g.weights) as unknown[];
  const found = new Map<string, { entry: WeightsManifestEntry; offset: number }>();
  let offset = 0;
  let declaredValues = 0;
  specs.forEach((s, i) => {
    if (!isObject(s) || typeof s.name !== 'string' || !Array.isArray(s.shape) || s.shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) {
      fail(modelLabel, `weightsManifest entry ${i} must be { name, shape, dtype }, got ${JSON.stringify(s)?.slice(0, 100)}`);
    }
    const entry = s as unknown as WeightsManifestEntry;
    const storage = entry.quantization?.dtype ?? entry.dtype;
    const bytesPer = BYTES[storage];
    if (!bytesPer) fail(modelLabel, `weight '${entry.name}' has dtype ${JSON.stringify(storage)}, which has no fixed size`);
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.group !== 'optimizer') {
      if (found.has(entry.name)) fail(modelLabel, `the manifest lists weight '${entry.name}' twice`);
      found.set(entry.name, { entry, offset });
    }
    offset += size * bytesPer;
    declaredValues += size;
  });
  if (offset !== bytes.length) {
    fail(weightsLabel, `${bytes.length} bytes, but the manifest in ${modelLabel} describes ${offset} bytes (file truncated, or from another model)`);
  }
  let model: LayersModel;
  try {
    // Layers may allocate about as many values as the manifest (already checked against the
    // file's size) declares; the slack leaves small mismatches to the precise messages below.
    model = withWeightBudget(declaredValues + WEIGHT_SLACK, () => modelFromTopology(functional ? 'Functional' : 'Sequential', cfg, entries, name));
  } catch (e) {
    return fail(modelLabel, (e as Error).message);
  }
  return finishLoad(model, found, bytes, json, modelLabel, weightsLabel);
}

const NESTED = ['Functional', 'Model', 'Sequential'];

/** A model built from a topology's config: a functional graph, or a Sequential's layer entries; nested models in either are built the same way. */
function modelFromTopology(kind: 'Functional' | 'Sequential', cfg: unknown, entries: unknown[], name: string): LayersModel {
  const nested = (entry: unknown, i: number): Layer | null => {
    if (!isObject(entry) || !NESTED.includes(entry.class_name as string)) return null;
    const c = entry.config;
    const functional = entry.class_name !== 'Sequential';
    if (functional && !isObject(c)) throw new Error(`layer ${i}: the nested ${String(entry.class_name)} has no config object`);
    const list = functional ? [] : Array.isArray(c) ? c : isObject(c) && Array.isArray(c.layers) ? c.layers : null;
    if (!list) throw new Error(`layer ${i}: the nested Sequential has no layers list`);
    const innerName = isObject(c) && typeof c.name === 'string' && c.name !== '' ? c.name : isObject(entry) && typeof entry.name === 'string' ? entry.name : `model_${i}`;
    const inner = modelFromTopology(functional ? 'Functional' : 'Sequential', c, list, innerName);
    const trainable = isObject(c) ? c.trainable : undefined;
    if (trainable === false) inner.trainable = false;
    return inner.layer();
  };
  if (kind === 'Functional') return new Model({ ...graphFromKeras(cfg as Record<string, unknown>, nested), name });
  const layers: Layer[] = [];
  let inputShape: number[] | undefined;
  entries.forEach((entry, i) => {
    const inner = nested(entry, i);
    if (inner) {
      layers.push(inner);
      return;
    }
    const read = layerFromKeras(entry, i, layers.length === 0 ? inputShape : undefined);
    if ('layer' in read) layers.push(read.layer);
    else if (layers.length === 0 && inputShape === undefined) inputShape = read.inputShape;
    else throw new Error(`layer ${i}: an InputLayer may only come first`);
  });
  if (layers.length === 0) throw new Error('the model has no layers');
  return new Sequential({ name, layers });
}

/** Sets the built model's weights from the file's bytes, by name, and compiles it with the saved training config. */
function finishLoad<M extends LayersModel>(
  model: M, found: Map<string, { entry: WeightsManifestEntry; offset: number }>, bytes: Uint8Array, json: ModelJSON, modelLabel: string, weightsLabel: string,
): M {
  const fail = (label: string, msg: string): never => {
    throw new Error(`loadModel: ${label}: ${msg}`);
  };
  const params = model.params();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors = params.map((p) => {
    const hit = found.get(p.name);
    if (!hit) {
      return fail(modelLabel, `the manifest has no weight '${p.name}' [${p.shape.join(', ')}], which the topology needs (manifest lists: ${[...found.keys()].slice(0, 8).join(', ')}${found.size > 8 ? ', …' : ''})`);
    }
    found.delete(p.name);
    const { entry, offset: at } = hit;
    if (entry.dtype !== 'float32' || entry.quantization) {
      fail(modelLabel, `weight '${entry.name}' is ${entry.quantization ? `quantized to ${entry.quantization.dtype}` : entry.dtype}; only unquantized float32 weights can be loaded`);
    }
    if (entry.shape.join() !== p.shape.join()) {
      fail(modelLabel, `weight '${p.name}' has shape [${entry.shape.join(', ')}] in the manifest, the topology needs [${p.shape.join(', ')}]`);
    }
    const values = new Float32Array(p.value.length);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(at + i * 4, true);
    if (p.name.endsWith('/moving_variance')) {
      const bad = values.findIndex((v) => !(v >= 0));
      if (bad >= 0) fail(weightsLabel, `weight '${p.name}' holds ${values[bad]} at index ${bad}; a variance cannot be negative (corrupt or hand-edited file)`);
    }
    return new Tensor(values, [...p.shape] as unknown as Shape);
  });
  if (found.size) fail(modelLabel, `the manifest lists weights no layer of the topology has: ${[...found.keys()].join(', ')}`);
  try {
    model.setWeights(tensors);
  } catch (e) {
    fail(weightsLabel, (e as Error).message);
  }

  const compiled = readTrainingConfig(json, modelLabel, model.outputShape[model.outputShape.length - 1]);
  if (compiled) model.compile(compiled);
  return model;
}

/** The compile settings in the file, or null (with a warning when present but not understood). */
function readTrainingConfig(json: ModelJSON, label: string, outputUnits: number): Compiled | null {
  const tscnn = isObject(json.userDefinedMetadata) && isObject(json.userDefinedMetadata.tscnn) ? json.userDefinedMetadata.tscnn.trainingConfig : undefined;
  if (tscnn === undefined && json.trainingConfig === undefined) return null;
  try {
    if (tscnn !== undefined) return compiledFromTscnn(tscnn as TscnnTrainingConfig);
    return compiledFromTrainingConfig(json.trainingConfig as TrainingConfig, outputUnits);
  } catch (e) {
    console.warn(`loadModel: ${label}: the training config is not understood (${(e as Error).message}); the model is loaded uncompiled, call compile() before fit()`);
    return null;
  }
}
