// Layers ↔ Keras layer configs (`{ class_name: 'Conv2D', config: { kernel_size: [3, 3], ... } }`)
// as tfjs-layers writes them: snake_case keys, the null regularizers and constraints, and
// `batch_input_shape` with `dtype` on the first layer.
import { ModelLayer } from '../model/model-layer.js';
import { Activation } from '../layers/activation.js';
import { AveragePooling2D } from '../layers/average-pooling2d.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Conv2D } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { KERNEL_LAYER_KEYS, kernelLayerKeys } from '../layers/kernel-layer.js';
import { DepthwiseConv2D } from '../layers/depthwise-conv2d.js';
import { SeparableConv2D } from '../layers/separable-conv2d.js';
import { Dropout } from '../layers/dropout.js';
import { Flatten } from '../layers/flatten.js';
import { GlobalAveragePooling2D, GlobalMaxPooling2D } from '../layers/global-pooling2d.js';
import type { Layer, LayerConfig } from '../layers/layer.js';
import { MaxPooling2D } from '../layers/max-pooling2d.js';
import { Reshape } from '../layers/reshape.js';
import { Rescaling } from '../layers/rescaling.js';
import { Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract } from '../layers/merge.js';
import { RandomRotation } from '../layers/random-rotation.js';
import { RandomTranslation } from '../layers/random-translation.js';
import { RandomFlip, type FlipMode } from '../layers/random-flip.js';
import { RandomZoom } from '../layers/random-zoom.js';
import { RandomContrast } from '../layers/random-contrast.js';
import { ReLU } from '../layers/relu.js';
import { ZeroPadding2D, type ZeroPadding } from '../layers/zero-padding2d.js';
import { activationFromKeras, activationToKeras, camelKey, initializerFromKeras, initializerToKeras, sampleShape } from './keras-config.js';
import type { KerasObject } from './types.js';
import type { FillMode } from '../backend/types.js';
import { regularizerFromKeras, type L1L2 } from '../train/regularizers.js';

/** Layer classes tscnn reads and writes, by Keras class name. */
export const SUPPORTED_LAYERS = [
  'Conv2D', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'BatchNormalization', 'Dense', 'Dropout', 'Activation', 'Flatten', 'Reshape', 'Rescaling', 'Add', 'Concatenate',
  'ZeroPadding2D', 'ReLU', 'DepthwiseConv2D', 'SeparableConv2D', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum',
  'RandomRotation', 'RandomZoom', 'RandomContrast', 'RandomTranslation', 'RandomFlip',
] as const;

/** The element-wise merges without options besides the common ones, by class name. */
const PLAIN_MERGES = { Add, Subtract, Multiply, Average, Maximum, Minimum } as const;

const FILL_KEYS = ['fillMode', 'interpolation', 'fillValue', 'seed'];

const NULLS = (...keys: string[]): Record<string, null> => Object.fromEntries(keys.map((k) => [k, null]));

/** The getConfig() keys each class translates; any other key means the writer is out of date. */
const WRITTEN_KEYS: Record<string, readonly string[]> = {
  Conv2D: ['filters', 'kernelSize', 'strides', 'padding', 'dilationRate', ...KERNEL_LAYER_KEYS],
  Dense: ['units', ...KERNEL_LAYER_KEYS],
  BatchNormalization: ['axis', 'momentum', 'epsilon', 'center', 'scale', 'betaInitializer', 'gammaInitializer', 'movingMeanInitializer', 'movingVarianceInitializer'],
  MaxPooling2D: ['poolSize', 'strides', 'padding'],
  AveragePooling2D: ['poolSize', 'strides', 'padding'],
  GlobalAveragePooling2D: ['keepdims'],
  GlobalMaxPooling2D: ['keepdims'],
  Dropout: ['rate', 'seed'],
  Activation: ['activation'],
  Flatten: [],
  Reshape: ['targetShape'],
  Rescaling: ['scale', 'offset'],
  ...Object.fromEntries(Object.keys(PLAIN_MERGES).map((k) => [k, []])),
  Concatenate: ['axis'],
  RandomRotation: ['factor', ...FILL_KEYS],
  RandomZoom: ['heightFactor', 'widthFactor', ...FILL_KEYS],
  RandomTranslation: ['heightFactor', 'widthFactor', ...FILL_KEYS],
  RandomFlip: ['mode', 'seed'],
  RandomContrast: ['factor', 'valueRange', 'seed'],
  InputLayer: ['batchInputShape'],
  ZeroPadding2D: ['padding'],
  ReLU: ['maxValue', 'negativeSlope', 'threshold'],
  DepthwiseConv2D: ['kernelSize', 'strides', 'padding', 'depthMultiplier', 'dilationRate', ...kernelLayerKeys('depthwise')],
  SeparableConv2D: ['filters', 'kernelSize', 'strides', 'padding', 'depthMultiplier', 'dilationRate', ...kernelLayerKeys('depthwise'), 'pointwiseInitializer', 'pointwiseRegularizer'],
};

/**
 * A layer as tfjs-layers serialises it inside a Sequential topology. `first` adds
 * `batch_input_shape` and `dtype`. Throws naming the layer for classes or options the format
 * cannot hold.
 */
export function layerToKeras(layer: Layer, first: boolean): KerasObject {
  // A nested model is written as TF.js nests it: its own topology in place of a layer's config.
  if (layer instanceof ModelLayer) return layer.model.toKerasTopology();
  const owner = `saveModel: ${layer.className} '${layer.name}'`;
  const c = layer.getConfig();
  const written = WRITTEN_KEYS[layer.className];
  if (!written) throw new Error(`${owner}: layer type ${layer.className} cannot be saved (supported: ${SUPPORTED_LAYERS.join(', ')})`);
  for (const key of Object.keys(c)) {
    if (!['name', 'trainable', 'inputShape', ...written].includes(key)) throw new Error(`${owner}: option '${key}' has no TF.js form`);
  }
  const init = (key: string): unknown => initializerToKeras(String(c[key]), `${owner}: ${key}`);
  // tfjs-layers registers only L1L2 (l1() and l2() are L1L2 with the other term 0).
  const reg = (key: string): unknown => {
    const r = c[key] as L1L2 | undefined;
    return r ? { class_name: 'L1L2', config: r.getConfig() } : null;
  };
  // KernelLayer's options (Conv2D, Dense), with the constraints tscnn does not have.
  const kernelLayer = (kernel = 'kernel'): Record<string, unknown> => ({
    activation: activationToKeras(String(c.activation)),
    use_bias: c.useBias,
    [`${kernel}_initializer`]: init(`${kernel}Initializer`),
    bias_initializer: init('biasInitializer'),
    [`${kernel}_regularizer`]: reg(`${kernel}Regularizer`),
    bias_regularizer: reg('biasRegularizer'),
    ...NULLS('activity_regularizer', `${kernel}_constraint`, 'bias_constraint'),
  });
  // DepthwiseConv2D's and SeparableConv2D's window and depthwise options.
  const depthwise = (): Record<string, unknown> => ({
    kernel_size: c.kernelSize,
    strides: c.strides,
    padding: c.padding,
    data_format: 'channels_last',
    dilation_rate: c.dilationRate,
    depth_multiplier: c.depthMultiplier,
    ...kernelLayer('depthwise'),
  });
  if (layer.className === 'InputLayer') {
    return { class_name: 'InputLayer', config: { batch_input_shape: c.batchInputShape, dtype: 'float32', sparse: false, name: layer.name } };
  }
  let config: Record<string, unknown>;
  switch (layer.className) {
    case 'Conv2D':
      config = {
        filters: c.filters,
        kernel_size: c.kernelSize,
        strides: c.strides,
        padding: c.padding,
        data_format: 'channels_last',
        dilation_rate: c.dilationRate,
        ...kernelLayer(),
      };
      break;
    case 'Dense':
      config = { units: c.units, ...kernelLayer() };
      break;
    case 'BatchNormalization':
      config = {
        axis: c.axis,
        momentum: c.momentum,
        epsilon: c.epsilon,
        center: c.center,
        scale: c.scale,
        beta_initializer: init('betaInitializer'),
        gamma_initializer: init('gammaInitializer'),
        moving_mean_initializer: init('movingMeanInitializer'),
        moving_variance_initializer: init('movingVarianceInitializer'),
        ...NULLS('beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint'),
      };
      break;
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      config = { pool_size: c.poolSize, padding: c.padding, strides: c.strides, data_format: 'channels_last' };
      break;
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      config = { data_format: 'channels_last', keepdims: c.keepdims };
      break;
    case 'Dropout':
      config = { rate: c.rate, noise_shape: null, seed: c.seed ?? null };
      break;
    case 'Activation':
      config = { activation: activationToKeras(String(c.activation)) };
      break;
    case 'Reshape':
      config = { target_shape: c.targetShape };
      break;
    case 'Rescaling':
      config = { scale: c.scale, offset: c.offset };
      break;
    case 'Concatenate':
      config = { axis: c.axis };
      break;
    case 'DepthwiseConv2D':
      config = depthwise();
      break;
    case 'SeparableConv2D':
      config = {
        filters: c.filters, ...depthwise(), pointwise_initializer: init('pointwiseInitializer'), pointwise_regularizer: reg('pointwiseRegularizer'), pointwise_constraint: null,
      };
      break;
    case 'ZeroPadding2D':
      config = { padding: c.padding, data_format: 'channels_last' };
      break;
    case 'ReLU':
      config = { max_value: c.maxValue, negative_slope: c.negativeSlope, threshold: c.threshold };
      break;
    case 'RandomRotation':
    case 'RandomZoom':
    case 'RandomTranslation':
      config = {
        ...(layer.className === 'RandomRotation' ? { factor: c.factor } : { height_factor: c.heightFactor, width_factor: c.widthFactor }),
        fill_mode: c.fillMode, interpolation: c.interpolation, seed: c.seed ?? null, fill_value: c.fillValue,
      };
      break;
    case 'RandomContrast':
      config = { factor: c.factor, value_range: c.valueRange, seed: c.seed ?? null };
      break;
    case 'RandomFlip':
      config = { mode: c.mode, seed: c.seed ?? null };
      break;
    default:
      config = {};
  }
  config.name = layer.name;
  config.trainable = layer.trainable;
  if (first) {
    config.batch_input_shape = [null, ...layer.inputShape!];
    config.dtype = 'float32';
  }
  return { class_name: layer.className, config };
}

/** Keys that carry nothing for tscnn when they hold their default; any other value is unsupported. */
const DEFAULT_ONLY: Record<string, (v: unknown) => boolean> = {
  dataFormat: (v) => v === null || v === 'channels_last' || v === 'channelsLast',
  dtype: (v) => v === null || v === 'float32' || (typeof v === 'object' && (v as { config?: { name?: string } }).config?.name === 'float32'),
  batchSize: (v) => v === null,
  noiseShape: (v) => v === null,
  groups: (v) => v === 1,
  loraRank: (v) => v === null,
  renorm: (v) => v === false,
  renormClipping: (v) => v === null,
  renormMomentum: () => true,
  fused: () => true,
  virtualBatchSize: (v) => v === null,
  adjustment: (v) => v === null,
  synchronized: (v) => v === false,
  ...Object.fromEntries(
    ['kernel', 'bias', 'activity', 'beta', 'gamma', 'depthwise', 'pointwise'].flatMap((p) => [`${p}Regularizer`, `${p}Constraint`]).map((k) => [k, (v: unknown) => v === null]),
  ),
};

/** One entry of a Sequential topology, read: a layer, or an InputLayer's sample shape. */
export type ReadLayer = { layer: Layer } | { inputShape: number[]; name: string };

/**
 * Builds a tscnn layer from a Keras layer object written by TF.js, Keras or tscnn. Config keys
 * may be snake_case or camelCase. Unsupported classes or option values throw, naming the layer
 * and the option. `InputLayer` yields its sample shape for the next layer.
 */
export function layerFromKeras(entry: unknown, index: number, inputShapeFromInputLayer?: number[]): ReadLayer {
  if (typeof entry !== 'object' || entry === null || typeof (entry as KerasObject).class_name !== 'string') {
    throw new Error(`layer ${index}: expected { class_name, config }, got ${JSON.stringify(entry)?.slice(0, 80)}`);
  }
  const className = (entry as KerasObject).class_name;
  const raw = (entry as KerasObject).config;
  if (typeof raw !== 'object' || raw === null) throw new Error(`layer ${index} (${className}): config must be an object`);
  const cfg = new Map<string, unknown>();
  for (const [k, v] of Object.entries(raw)) cfg.set(camelKey(k), v);
  const name = cfg.get('name');
  const owner = `layer ${index} (${className} '${typeof name === 'string' ? name : '?'}')`;
  const take = (key: string): unknown => {
    const v = cfg.get(key);
    cfg.delete(key);
    return v ?? undefined;
  };

  const common: LayerConfig = {};
  if (typeof name === 'string' && name !== '') common.name = name;
  cfg.delete('name');
  const trainable = take('trainable');
  if (trainable !== undefined) {
    if (typeof trainable !== 'boolean') throw new Error(`${owner}: unsupported option trainable = ${JSON.stringify(trainable)}`);
    common.trainable = trainable;
  }
  for (const key of ['batchInputShape', 'batchShape']) {
    const v = take(key);
    if (v !== undefined) common.inputShape = sampleShape(v, owner, key);
  }
  const inputShape = take('inputShape');
  if (inputShape !== undefined) common.inputShape = sampleShape([null, ...(Array.isArray(inputShape) ? inputShape : [inputShape])], owner, 'inputShape');
  if (inputShapeFromInputLayer && !common.inputShape) common.inputShape = inputShapeFromInputLayer;

  const finish = (): void => {
    for (const [key, value] of cfg) {
      const ok = DEFAULT_ONLY[key];
      if (!ok || !ok(value)) throw new Error(`${owner}: unsupported option ${key} = ${JSON.stringify(value)}`);
    }
  };
  const init = (key: string) => initializerFromKeras(take(key), owner, key);
  const reg = (key: string): L1L2 | undefined => regularizerFromKeras(take(key), `${owner}: ${key}`) ?? undefined;
  const opt = <T>(v: unknown): T | undefined => (v === undefined ? undefined : (v as T));
  // KernelLayer's options (Conv2D, Dense), taken in Keras' order after the layer's own.
  const kernelArgs = (kernel = 'kernel') => ({
    activation: activationFromKeras(take('activation'), owner),
    useBias: opt<boolean>(take('useBias')),
    [`${kernel}Initializer`]: init(`${kernel}Initializer`),
    biasInitializer: init('biasInitializer'),
    [`${kernel}Regularizer`]: reg(`${kernel}Regularizer`),
    biasRegularizer: reg('biasRegularizer'),
  });
  // The sliding-window options of Conv2D, DepthwiseConv2D and SeparableConv2D (what windowConfig writes).
  const windowArgs = () => ({
    kernelSize: take('kernelSize') as [number, number],
    strides: opt<[number, number]>(take('strides')),
    padding: opt<'valid' | 'same'>(take('padding')),
    dilationRate: opt<[number, number]>(take('dilationRate')),
  });
  // DepthwiseConv2D's and SeparableConv2D's window and depthwise options.
  const depthwiseArgs = () => ({ ...windowArgs(), depthMultiplier: opt<number>(take('depthMultiplier')), ...kernelArgs('depthwise') });
  // Checks that no unsupported option is left, then builds the layer from the options taken.
  const make = <C extends object>(LayerClass: new (config: C) => Layer, config: C): Layer => {
    finish();
    return new LayerClass(dropUndefined(config));
  };

  if (className === 'InputLayer') {
    for (const key of ['sparse', 'ragged']) {
      const v = take(key);
      if (v !== undefined && v !== false) throw new Error(`${owner}: unsupported option ${key} = ${JSON.stringify(v)}`);
    }
    finish();
    if (!common.inputShape) throw new Error(`${owner}: InputLayer without batch_input_shape`);
    return { inputShape: [...common.inputShape], name: common.name ?? 'input' };
  }

  let layer: Layer;
  switch (className) {
    case 'Conv2D': {
      layer = make(Conv2D, {
        ...common,
        filters: take('filters') as number,
        ...windowArgs(),
        ...kernelArgs(),
      });
      break;
    }
    case 'Dense': {
      const inputDim = take('inputDim');
      if (inputDim !== undefined && !common.inputShape) common.inputShape = sampleShape([null, inputDim], owner, 'inputDim');
      layer = make(Dense, {
        ...common,
        units: take('units') as number,
        ...kernelArgs(),
      });
      break;
    }
    case 'BatchNormalization': {
      let axis = take('axis');
      if (Array.isArray(axis) && axis.length === 1) axis = axis[0];
      layer = make(BatchNormalization, {
        ...common,
        axis: opt<number>(axis),
        momentum: opt<number>(take('momentum')),
        epsilon: opt<number>(take('epsilon')),
        center: opt<boolean>(take('center')),
        scale: opt<boolean>(take('scale')),
        betaInitializer: init('betaInitializer'),
        gammaInitializer: init('gammaInitializer'),
        movingMeanInitializer: init('movingMeanInitializer'),
        movingVarianceInitializer: init('movingVarianceInitializer'),
      });
      break;
    }
    case 'MaxPooling2D':
    case 'MaxPool2D':
    case 'AveragePooling2D':
    case 'AvgPool2D': {
      layer = make(className.startsWith('Max') ? MaxPooling2D : AveragePooling2D, {
        ...common,
        poolSize: opt<[number, number]>(take('poolSize')),
        strides: opt<[number, number]>(take('strides')),
        padding: opt<'valid' | 'same'>(take('padding')),
      });
      break;
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalAvgPool2D':
    case 'GlobalMaxPooling2D':
    case 'GlobalMaxPool2D': {
      layer = make(className.startsWith('GlobalMax') ? GlobalMaxPooling2D : GlobalAveragePooling2D, { ...common, keepdims: opt<boolean>(take('keepdims')) });
      break;
    }
    case 'Dropout': {
      layer = make(Dropout, { ...common, rate: take('rate') as number, seed: opt<number>(take('seed')) });
      break;
    }
    case 'Activation': {
      layer = make(Activation, { ...common, activation: activationFromKeras(take('activation'), owner) });
      break;
    }
    case 'Flatten': {
      layer = make(Flatten, common);
      break;
    }
    case 'Reshape': {
      layer = make(Reshape, { ...common, targetShape: take('targetShape') as number[] });
      break;
    }
    case 'Rescaling': {
      layer = make(Rescaling, { ...common, scale: take('scale') as number, offset: opt<number>(take('offset')) });
      break;
    }
    case 'Add':
    case 'Subtract':
    case 'Multiply':
    case 'Average':
    case 'Maximum':
    case 'Minimum': {
      layer = make(PLAIN_MERGES[className], common);
      break;
    }
    case 'RandomRotation':
    case 'RandomZoom':
    case 'RandomTranslation': {
      const fill = { fillMode: opt<FillMode>(take('fillMode')), interpolation: opt<'bilinear' | 'nearest'>(take('interpolation')), fillValue: opt<number>(take('fillValue')) };
      const seed = opt<number>(take('seed'));
      layer = className === 'RandomZoom'
        ? make(RandomZoom, { ...common, heightFactor: take('heightFactor') as number, widthFactor: opt<number>(take('widthFactor')), ...fill, seed })
        : className === 'RandomTranslation'
          ? make(RandomTranslation, { ...common, heightFactor: take('heightFactor') as number, widthFactor: take('widthFactor') as number, ...fill, seed })
          : make(RandomRotation, { ...common, factor: take('factor') as number, ...fill, seed });
      break;
    }
    case 'RandomFlip': {
      const mode = opt<FlipMode>(take('mode'));
      const seed = opt<number>(take('seed'));
      finish();
      layer = new RandomFlip(mode, dropUndefined({ ...common, seed }));
      break;
    }
    case 'RandomContrast': {
      layer = make(RandomContrast, { ...common, factor: take('factor') as number, valueRange: opt<[number, number]>(take('valueRange')), seed: opt<number>(take('seed')) });
      break;
    }
    case 'Concatenate': {
      layer = make(Concatenate, { ...common, axis: opt<number>(take('axis')) });
      break;
    }
    case 'DepthwiseConv2D': {
      layer = make(DepthwiseConv2D, { ...common, ...depthwiseArgs() });
      break;
    }
    case 'SeparableConv2D':
    case 'SeparableConvolution2D': {
      layer = make(SeparableConv2D, {
        ...common, filters: take('filters') as number, ...depthwiseArgs(),
        pointwiseInitializer: init('pointwiseInitializer'), pointwiseRegularizer: reg('pointwiseRegularizer'),
      });
      break;
    }
    case 'ZeroPadding2D': {
      layer = make(ZeroPadding2D, { ...common, padding: opt<ZeroPadding>(take('padding')) });
      break;
    }
    case 'ReLU': {
      layer = make(ReLU, { ...common, maxValue: opt<number>(take('maxValue')), negativeSlope: opt<number>(take('negativeSlope')), threshold: opt<number>(take('threshold')) });
      break;
    }
    default:
      throw new Error(`${owner}: unsupported layer type ${className} (supported: ${SUPPORTED_LAYERS.join(', ')}, InputLayer)`);
  }
  return { layer };
}

/** Leaves out undefined values so the layer constructors apply their defaults. */
function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
