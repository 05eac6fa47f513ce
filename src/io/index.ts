export { saveModel, toMemory, MODEL_FILE, WEIGHTS_FILE } from './save.js';
export { loadModel, type ModelSource } from './load.js';
export { ModelCheckpoint, type ModelCheckpointConfig } from './model-checkpoint.js';
export { SUPPORTED_LAYERS } from './layer-config.js';
export type { ModelJSON, ModelArtifactsInMemory, TrainingConfig, WeightsManifestEntry, WeightsManifestGroupConfig, KerasObject } from './types.js';
export { browserFiles, type BrowserFilesSource, type PickedFile } from './browser.js';
