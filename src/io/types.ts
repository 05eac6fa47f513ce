// The TensorFlow.js LayersModel file format, as declared in tfjs-core's `src/io/types.ts`
// (`ModelJSON`, `WeightsManifestConfig`, `TrainingConfig`). Declared here rather than imported
// because `@tensorflow/tfjs` is only a devDependency.

/** One weight in a manifest: its name (`conv2d/kernel`), shape and dtype. */
export interface WeightsManifestEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool' | 'string' | 'complex64';
  /** TF.js marks optimizer slots saved with `includeOptimizer: true` as group 'optimizer'. */
  group?: 'model' | 'optimizer';
  quantization?: { scale?: number; min?: number; dtype: 'uint16' | 'uint8' | 'float16' };
}

/** A group of weights stored in one or more files, concatenated in `paths` order. */
export interface WeightsManifestGroupConfig {
  paths: string[];
  weights: WeightsManifestEntry[];
}

/** Keras' training configuration as TF.js writes it (snake_case loss and metric names). */
export interface TrainingConfig {
  optimizer_config: { class_name: string; config: Record<string, unknown> };
  loss: string | string[] | Record<string, string>;
  metrics?: string[] | Record<string, string>;
  weighted_metrics?: string[] | null;
  sample_weight_mode?: string | null;
  loss_weights?: number[] | Record<string, number> | null;
}

/** A Keras object in serialised form: `{ class_name: 'Conv2D', config: { ... } }`. */
export interface KerasObject {
  class_name: string;
  config: Record<string, unknown>;
}

/** The topology of a Sequential model as tfjs-layers and Keras write it. */
export interface SequentialTopology {
  class_name: 'Sequential';
  config: { name: string; layers: KerasObject[] };
  keras_version?: string;
  backend?: string;
}

/** The content of `model.json`. */
export interface ModelJSON {
  modelTopology: SequentialTopology | Record<string, unknown>;
  weightsManifest: WeightsManifestGroupConfig[];
  trainingConfig?: TrainingConfig;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  userDefinedMetadata?: Record<string, unknown>;
}

/** A saved model held in memory: the `model.json` object (or its text) and the weight bytes. */
export interface ModelArtifactsInMemory {
  modelJSON: ModelJSON | string;
  weights: ArrayBuffer | ArrayBufferView;
}
