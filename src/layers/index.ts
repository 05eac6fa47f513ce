export { Layer, formatShape, type LayerConfig, type Param, type ForwardContext } from './layer.js';
export { Conv2D, type Conv2DConfig } from './conv2d.js';
export { MaxPooling2D, type MaxPooling2DConfig } from './max-pooling2d.js';
export { BatchNormalization, type BatchNormalizationConfig } from './batch-normalization.js';
export { Dense, type DenseConfig } from './dense.js';
export { Dropout, type DropoutConfig } from './dropout.js';
export { Activation } from './activation.js';
export { Flatten } from './flatten.js';
export type { ActivationName } from './activations.js';
