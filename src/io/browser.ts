// Model storage in a browser with TF.js' conventions: 'indexeddb://name' (TF.js' own database
// layout, so each library reads the other's saves), 'downloads://name' (name.json and
// name.weights.bin through the page's download), and files the user picked (browserFiles).
// Reached from saveModel / loadModel; uses only what a page has (indexedDB, document, Blob).
import type { ModelArtifactsInMemory, ModelJSON, WeightsManifestEntry } from './types.js';

/** The URL schemes saveModel (both) and loadModel ('indexeddb://') take in a browser. */
export const BROWSER_SCHEMES = ['indexeddb://', 'downloads://'] as const;

/** Whether `path` is a browser storage URL rather than a directory. */
export function isBrowserURL(path: string): boolean {
  return BROWSER_SCHEMES.some((s) => path.startsWith(s));
}

// TF.js' IndexedDB layout (tfjs-core/src/io/indexed_db.ts): one record per model in each store.
const DATABASE = 'tensorflowjs';
const MODELS = 'models_store';
const INFO = 'model_info_store';

interface IdbRequest<T = unknown> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
  onupgradeneeded?: (() => void) | null;
}
interface IdbStore {
  put(value: unknown): IdbRequest;
  get(key: string): IdbRequest<{ modelArtifacts?: TfjsArtifacts } | undefined>;
}
interface IdbDatabase {
  objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string, options: { keyPath: string }): void;
  transaction(stores: string[], mode: 'readonly' | 'readwrite'): { objectStore(name: string): IdbStore; oncomplete: (() => void) | null; onerror: (() => void) | null; error: unknown };
  close(): void;
}
/** TF.js' ModelArtifacts as stored (weightData one buffer, or several in TF.js ≥ 4.10). */
interface TfjsArtifacts {
  modelTopology: unknown;
  weightSpecs: WeightsManifestEntry[];
  weightData: ArrayBuffer | ArrayBuffer[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: unknown;
  userDefinedMetadata?: unknown;
}

function request<T>(r: IdbRequest<T>, what: string): Promise<T> {
  return new Promise((ok, fail) => {
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(new Error(`${what}: IndexedDB: ${String(r.error)}`));
  });
}

async function openDatabase(user: string): Promise<IdbDatabase> {
  const idb = (globalThis as { indexedDB?: { open(name: string, version: number): IdbRequest<IdbDatabase> } }).indexedDB;
  if (!idb) throw new Error(`${user}: 'indexeddb://' needs a browser with IndexedDB; in Node save to a directory`);
  const open = idb.open(DATABASE, 1);
  open.onupgradeneeded = () => {
    const db = open.result;
    if (!db.objectStoreNames.contains(MODELS)) db.createObjectStore(MODELS, { keyPath: 'modelPath' });
    if (!db.objectStoreNames.contains(INFO)) db.createObjectStore(INFO, { keyPath: 'modelPath' });
  };
  return request(open, user);
}

function pathOf(url: string, scheme: string, user: string): string {
  const name = url.slice(scheme.length);
  if (name === '') throw new Error(`${user}: '${url}' names no model (expected '${scheme}name')`);
  return name;
}

/** Saves `modelJSON` + `weights` at a browser URL (see the module comment). */
export async function saveToBrowser(url: string, modelJSON: ModelJSON, weights: ArrayBuffer): Promise<void> {
  if (url.startsWith('indexeddb://')) {
    const modelPath = pathOf(url, 'indexeddb://', 'saveModel');
    const { modelTopology, weightsManifest, ...rest } = modelJSON;
    const artifacts: TfjsArtifacts = { ...rest, modelTopology, weightSpecs: weightsManifest.flatMap((g) => g.weights), weightData: weights };
    const info = {
      dateSaved: new Date(),
      modelTopologyType: 'JSON',
      modelTopologyBytes: JSON.stringify(modelTopology).length,
      weightSpecsBytes: JSON.stringify(artifacts.weightSpecs).length,
      weightDataBytes: weights.byteLength,
    };
    const db = await openDatabase('saveModel');
    try {
      const tx = db.transaction([MODELS, INFO], 'readwrite');
      const done = new Promise<void>((ok, fail) => {
        tx.oncomplete = () => ok();
        tx.onerror = () => fail(new Error(`saveModel: IndexedDB: ${String(tx.error)}`));
      });
      tx.objectStore(INFO).put({ modelPath, modelArtifactsInfo: info });
      tx.objectStore(MODELS).put({ modelPath, modelArtifacts: artifacts });
      await done;
    } finally {
      db.close();
    }
    return;
  }
  const name = pathOf(url, 'downloads://', 'saveModel');
  const doc = (globalThis as { document?: { createElement(tag: 'a'): { href: string; download: string; click(): void } } }).document;
  const page = globalThis as { Blob?: new (parts: unknown[], o?: { type: string }) => object; URL: { createObjectURL?(b: object): string; revokeObjectURL?(u: string): void } };
  if (!doc || !page.Blob || !page.URL.createObjectURL) throw new Error(`saveModel: 'downloads://' needs a page (document, Blob, URL.createObjectURL); in Node save to a directory`);
  const weightsFile = `${name}.weights.bin`;
  const json = { ...modelJSON, weightsManifest: modelJSON.weightsManifest.map((g) => ({ ...g, paths: [`./${weightsFile}`] })) };
  for (const [file, part, type] of [[`${name}.json`, JSON.stringify(json), 'application/json'], [weightsFile, weights, 'application/octet-stream']] as const) {
    const href = page.URL.createObjectURL(new page.Blob([part], { type }));
    const a = doc.createElement('a');
    a.href = href;
    a.download = file;
    a.click();
    setTimeout(() => page.URL.revokeObjectURL?.(href), 60_000);
  }
}

/** Reads a model saved at 'indexeddb://name' (by tscnn or TF.js) into memory. */
export async function loadFromIndexedDB(url: string): Promise<ModelArtifactsInMemory> {
  const modelPath = pathOf(url, 'indexeddb://', 'loadModel');
  const db = await openDatabase('loadModel');
  let record: { modelArtifacts?: TfjsArtifacts } | undefined;
  try {
    record = await request(db.transaction([MODELS], 'readonly').objectStore(MODELS).get(modelPath), 'loadModel');
  } finally {
    db.close();
  }
  const a = record?.modelArtifacts;
  if (!a) throw new Error(`loadModel: no model saved at '${url}' (IndexedDB database '${DATABASE}')`);
  const parts = Array.isArray(a.weightData) ? a.weightData : [a.weightData];
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(new Uint8Array(p), at);
    at += p.byteLength;
  }
  const { modelTopology, weightSpecs, weightData: _data, ...rest } = a;
  const modelJSON = { ...rest, modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs }] } as ModelJSON;
  return { modelJSON, weights: bytes };
}

/** A File or Blob the user picked: only what is read here. */
export interface PickedFile {
  name: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Files picked by the user for {@link loadModel}: see {@link browserFiles}. */
export interface BrowserFilesSource {
  readonly browserFiles: readonly PickedFile[];
}

/**
 * A model from files the user picked (`<input type="file" multiple>`, drag and drop): the
 * `.json` file and the weight files its manifest names (matched by file name), as TF.js'
 * `tf.io.browserFiles`.
 * @example
 * const model = await loadModel(browserFiles([...input.files])); // model.json + weights.bin
 */
export function browserFiles(files: readonly PickedFile[]): BrowserFilesSource {
  if (!Array.isArray(files) || files.length === 0) throw new Error('browserFiles: expected a non-empty array of Files (the .json file and its weight files)');
  return { browserFiles: files };
}

/** Reads picked files into memory: weights concatenated in manifest order. */
export async function readBrowserFiles(source: BrowserFilesSource): Promise<ModelArtifactsInMemory> {
  const files = source.browserFiles;
  const jsons = files.filter((f) => f.name.endsWith('.json'));
  if (jsons.length !== 1) throw new Error(`loadModel: browserFiles needs exactly one .json file, got ${jsons.length} (${files.map((f) => f.name).join(', ')})`);
  const text = new TextDecoder().decode(await jsons[0].arrayBuffer());
  let modelJSON: ModelJSON;
  try {
    modelJSON = JSON.parse(text) as ModelJSON;
  } catch (e) {
    throw new Error(`loadModel: ${jsons[0].name}: not valid JSON (${(e as Error).message})`);
  }
  const byName = new Map(files.map((f) => [f.name, f]));
  const paths = (modelJSON.weightsManifest ?? []).flatMap((g) => g.paths);
  const parts: Uint8Array[] = [];
  for (const p of paths) {
    const base = p.split('/').pop() ?? p;
    const file = byName.get(base);
    if (!file) throw new Error(`loadModel: ${jsons[0].name} names weight file '${base}', which is not among the picked files (${files.map((f) => f.name).join(', ')})`);
    parts.push(new Uint8Array(await file.arrayBuffer()));
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { modelJSON: { ...modelJSON, weightsManifest: (modelJSON.weightsManifest ?? []).map((g) => ({ ...g, paths: g.paths.map((q) => q.split('/').pop() ?? q) })) }, weights: bytes };
}
