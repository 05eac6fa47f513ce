export { tensor, Tensor, shapeSize, type NdarrayView, type NdarrayLike, type Rank, type Shape, type ShapeMap, type TensorLike, type Tensor0D, type Tensor1D, type Tensor2D, type Tensor3D, type Tensor4D } from './tensor.js';
export {
  setBackend, getBackend, getBackendConfig, tidy, listBackends, loadGpuBackend, engineInfo, shutdownEngineThreads, startEngineThreads,
  type Backend, type BackendName, type BackendConfig, type ActivationKind, type CpuBackendOptions, type CpuBackendConfig,
  type EngineInfo, type RelaxedSimdSetting, type WinogradSetting,
} from './backend/index.js';
export { conv2dInfo, axisGeometry, type Conv2DInfo, type Padding } from './geometry.js';
export { setSeed, Random } from './util/random.js';
export { LayersModel, type Prediction } from './model/layers-model.js';
export { ModelLayer } from './model/model-layer.js';
export type { ModelData, LossSpec, MetricsSpec } from './model/model-io.js';
export { Model, model, type ModelConfig, type PredictionOf } from './model/functional.js';
export { input, InputLayer, type InputConfig } from './layers/input-layer.js';
export { SymbolicTensor } from './layers/symbolic.js';
export { Sequential, History, type CompileArgs, type FitArgs, type BatchDataset, type ClassWeight, type DataBatch, type MultiDataBatch } from './model/sequential.js';
export { EarlyStopping, LambdaCallback, type Callback, type Logs } from './train/callbacks.js';
export { ReduceLROnPlateau, LearningRateScheduler, type ReduceLROnPlateauConfig } from './train/lr-callbacks.js';
export { CSVLogger, type CSVLoggerConfig } from './train/csv-logger.js';
export { formatDiagnostic, type Diagnostic, type DiagnosticCode } from './train/doctor/index.js';
export * as layers from './layers/index.js';
export * as optimizers from './train/optimizers.js';
export * as losses from './train/losses.js';
export * as schedules from './train/schedules.js';
export * as regularizers from './train/regularizers.js';
export * as metrics from './train/metrics/index.js';
export * as initializers from './initializers.js';
export { loadImage, fromPixels, type PixelSource, type FromPixelsOptions, decodeImage, resizeImage, convertColorMode, detectImageFormat, ImageDecodeError, MAX_IMAGE_PIXELS, resolveDecoder, type RawImage, type LoadImageOptions, type Interpolation, type ColorMode, type ImageDecoder } from './image/index.js';
export {
  imageDatasetFromDirectory,
  ImageDirectoryDataset,
  loadImagesFromDirectory,
  trainTestSplit,
  generateCatsDogs,
  catsDogsTensors,
  type CatsDogsTensorsOptions,
  type Batch,
  type Dataset,
  type LabelMode,
  type ImageDatasetOptions,
  type LoadImagesOptions,
  type TrainTestSplitOptions,
  type GenerateCatsDogsOptions,
} from './data/index.js';
export {
  saveModel,
  loadModel,
  toMemory,
  browserFiles,
  ModelCheckpoint,
  type ModelSource,
  type BrowserFilesSource,
  type PickedFile,
  type ModelCheckpointConfig,
  type ModelJSON,
  type ModelArtifactsInMemory,
  type TrainingConfig,
} from './io/index.js';
export { exportOnnx, toOnnx, ONNX_OPSET, ONNX_LAYERS } from './io/onnx/index.js';
