// The compile settings (loss, optimizer and its settings, metrics) in two forms:
// - `trainingConfig`, where TF.js keeps them: only what `tf.loadLayersModel` can compile
//   (TF.js throws on metrics it does not know, such as 'recall', and has no `fromLogits`);
// - `userDefinedMetadata.tscnn`, the complete tscnn description, read first by `loadModel`.
// Optimizer state (velocities, moments, iteration count) is not saved: TF.js does not save it
// either unless asked, and Keras' converter drops it.
import {
  binaryCrossentropy,
  binaryFocalCrossentropy,
  categoricalCrossentropy,
  getLoss,
  hinge,
  huber,
  meanAbsoluteError,
  meanSquaredError,
  sparseCategoricalCrossentropy,
  type Loss,
} from '../train/losses.js';
import {
  Accuracy,
  AUC,
  BatchAveragedPrecision,
  BinaryAccuracy,
  ConfusionMatrix,
  getMetric,
  MeanAbsoluteError,
  MeanSquaredError,
  Precision,
  Recall,
  TopKCategoricalAccuracy,
  type Metric,
} from '../train/metrics/index.js';
import { Adam, AdamW, Optimizer, RMSprop, SGD, type OptimizerConfig } from '../train/optimizers.js';
import { LearningRateSchedule, scheduleFromKeras } from '../train/schedules.js';
import { camelKey, snakeCase } from './keras-config.js';
import type { KerasObject, TrainingConfig } from './types.js';

/** What a model holds after `compile`. */
export interface Compiled {
  optimizer: Optimizer;
  loss: Loss;
  metrics: Metric[];
}

/** The complete compile settings, stored under `userDefinedMetadata.tscnn.trainingConfig`. */
export interface TscnnTrainingConfig {
  loss: Record<string, unknown>;
  optimizer: KerasObject;
  metrics: KerasObject[];
}

const METRIC_CLASSES = {
  Precision,
  Recall,
  BinaryAccuracy,
  Accuracy,
  AUC,
  ConfusionMatrix,
  BatchAveragedPrecision,
  TopKCategoricalAccuracy,
  MeanAbsoluteError,
  MeanSquaredError,
} as const;
type MetricClassName = keyof typeof METRIC_CLASSES;

function metricClassName(m: Metric): string {
  for (const [name, cls] of Object.entries(METRIC_CLASSES)) if (m instanceof cls) return name;
  return 'Custom';
}

/** Both forms of a compiled model's settings. `trainingConfig` is null when TF.js could not compile it. */
export function trainingConfigs(c: Compiled): { trainingConfig: TrainingConfig | null; tscnn: TscnnTrainingConfig } {
  const tscnn: TscnnTrainingConfig = {
    loss: c.loss.getConfig(),
    optimizer: { class_name: c.optimizer.className, config: c.optimizer.getConfig() },
    metrics: c.metrics.map((m) => ({ class_name: metricClassName(m), config: m.getConfig() })),
  };
  const lossCfg = c.loss.getConfig();
  const lossName = typeof lossCfg.name === 'string' ? lossCfg.name : '';
  const tfLossOk = ['binaryCrossentropy', 'categoricalCrossentropy', 'sparseCategoricalCrossentropy', 'meanSquaredError', 'meanAbsoluteError', 'hinge'].includes(lossName) && !lossCfg.fromLogits;
  const optimizer = tfOptimizer(c.optimizer);
  if (!tfLossOk || !optimizer) return { trainingConfig: null, tscnn };
  const metrics: string[] = [];
  for (const m of c.metrics) {
    const cfg = m.getConfig();
    const defaultThreshold = cfg.threshold === undefined || cfg.threshold === 0.5;
    if (m instanceof Precision && m.name === 'precision' && defaultThreshold) metrics.push('precision');
    else if ((m instanceof BinaryAccuracy || m instanceof Accuracy) && ['accuracy', 'acc', 'binary_accuracy', 'categorical_accuracy'].includes(m.name) && defaultThreshold) {
      metrics.push(m.name);
    } else if (m instanceof BinaryAccuracy && m.name === 'binaryAccuracy' && defaultThreshold) metrics.push('binary_accuracy');
    else if (m instanceof Accuracy && m.name === 'categoricalAccuracy') metrics.push('categorical_accuracy');
    // TF.js reads metric names back through snake → camel, so only its short aliases survive.
    else if (m instanceof MeanAbsoluteError && ['mae', 'MAE'].includes(m.name)) metrics.push(m.name);
    else if (m instanceof MeanSquaredError && ['mse', 'MSE'].includes(m.name)) metrics.push(m.name);
  }
  return { trainingConfig: { loss: snakeCase(lossName), metrics, optimizer_config: optimizer }, tscnn };
}

/** The optimizer as TF.js names it (`SGD`, `Momentum`, `Adam`, `RMSProp`), camelCase settings as TF.js writes them. */
function tfOptimizer(o: Optimizer): KerasObject | null {
  // TF.js optimizers have no schedules, weight decay or clipping, and no AdamW.
  if (o.learningRateSchedule || o.weightDecay !== null || o.clipNorm !== null || o.clipValue !== null || o.globalClipNorm !== null || o instanceof AdamW) return null;
  if (o instanceof SGD) {
    if (o.momentum === 0 && !o.nesterov) return { class_name: 'SGD', config: { learningRate: o.learningRate } };
    return { class_name: 'Momentum', config: { learningRate: o.learningRate, momentum: o.momentum, useNesterov: o.nesterov } };
  }
  if (o instanceof Adam) return { class_name: 'Adam', config: { learningRate: o.learningRate, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon } };
  if (o instanceof RMSprop) return { class_name: 'RMSProp', config: { learningRate: o.learningRate, decay: o.rho, momentum: 0, epsilon: o.epsilon, centered: false } };
  return null;
}

/** Rebuilds the compile settings from tscnn's own description. Throws on what it cannot rebuild. */
export function compiledFromTscnn(t: TscnnTrainingConfig): Compiled {
  const { name, ...lossOpts } = t.loss as { name?: string } & Record<string, unknown>;
  const lossFactories: Record<string, (o: Record<string, unknown>) => Loss> = {
    binaryCrossentropy: (o) => binaryCrossentropy(o),
    categoricalCrossentropy: (o) => categoricalCrossentropy(o),
    sparseCategoricalCrossentropy: (o) => sparseCategoricalCrossentropy(o),
    meanSquaredError: () => meanSquaredError(),
    meanAbsoluteError: () => meanAbsoluteError(),
    huber: (o) => huber(o),
    hinge: () => hinge(),
    binaryFocalCrossentropy: (o) => binaryFocalCrossentropy(o),
  };
  const lossFactory = typeof name === 'string' ? lossFactories[name] : undefined;
  if (!lossFactory) throw new Error(`loss ${JSON.stringify(t.loss)} is not a built-in tscnn loss`);
  const loss = lossFactory(lossOpts);
  const optimizer = optimizerFromKeras(t.optimizer);
  const metrics = t.metrics.map((m) => {
    const cls = METRIC_CLASSES[m.class_name as MetricClassName];
    if (!cls) throw new Error(`metric ${JSON.stringify(m)} is not a built-in tscnn metric`);
    return new cls(m.config as never);
  });
  return { loss, optimizer, metrics };
}

/**
 * Rebuilds the compile settings from a TF.js / Keras `trainingConfig`. Throws on what tscnn
 * cannot honour (several outputs, loss weights, an unknown loss, optimizer or metric).
 */
export function compiledFromTrainingConfig(tc: TrainingConfig, outputUnits: number): Compiled {
  for (const key of ['weighted_metrics', 'loss_weights', 'sample_weight_mode'] as const) {
    const v = tc[key];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) throw new Error(`${key} = ${JSON.stringify(v)} is not supported`);
  }
  if (typeof tc.loss !== 'string') throw new Error(`loss ${JSON.stringify(tc.loss)}: only a single loss name is supported`);
  const loss = getLoss(tc.loss);
  const optimizer = optimizerFromKeras(tc.optimizer_config);
  let names: unknown[] = [];
  if (Array.isArray(tc.metrics)) names = tc.metrics.flat();
  else if (tc.metrics !== undefined && tc.metrics !== null) throw new Error(`metrics ${JSON.stringify(tc.metrics)}: only a list is supported`);
  const metrics = names.map((n) => {
    if (typeof n !== 'string') throw new Error(`metric ${JSON.stringify(n)} is not a name`);
    return getMetric(snakeCase(n), outputUnits);
  });
  return { loss, optimizer, metrics };
}

/** Optimizer settings Keras writes that change nothing when they hold these values. */
const OPTIMIZER_INERT: Record<string, (v: unknown) => boolean> = {
  name: () => true,
  useEma: (v) => v === false,
  emaMomentum: () => true,
  emaOverwriteFrequency: (v) => v === null,
  lossScaleFactor: (v) => v === null,
  gradientAccumulationSteps: (v) => v === null,
  isLegacyOptimizer: (v) => v === false,
  jitCompile: () => true,
  amsgrad: (v) => v === false,
  decay: (v) => v === 0,
  centered: (v) => v === false,
};

/** `{ class_name: 'SGD' | 'Momentum' | 'Adam' | 'RMSProp' | 'RMSprop', config }` in TF.js, Keras or tscnn spelling. */
export function optimizerFromKeras(o: unknown): Optimizer {
  if (typeof o !== 'object' || o === null || typeof (o as KerasObject).class_name !== 'string') {
    throw new Error(`optimizer_config ${JSON.stringify(o)} is not { class_name, config }`);
  }
  const className = (o as KerasObject).class_name;
  const cfg = new Map<string, unknown>();
  for (const [k, v] of Object.entries((o as KerasObject).config ?? {})) cfg.set(camelKey(k), v);
  const take = (...keys: string[]): number | boolean | undefined => {
    let out: unknown;
    for (const k of keys) {
      if (cfg.has(k)) {
        out = cfg.get(k);
        cfg.delete(k);
      }
    }
    if (out !== undefined && out !== null && typeof out !== 'number' && typeof out !== 'boolean') {
      throw new Error(`optimizer ${className}: ${keys[0]} = ${JSON.stringify(out)} is not supported (only constant values)`);
    }
    return (out ?? undefined) as number | boolean | undefined;
  };
  // Keras writes a schedule as { class_name, config } (with module and registered_name).
  let schedule: LearningRateSchedule | undefined;
  for (const key of ['learningRate', 'lr']) {
    const v = cfg.get(key);
    if (typeof v === 'object' && v !== null) {
      schedule = scheduleFromKeras(v);
      cfg.delete(key);
    }
  }
  const rate = take('learningRate', 'lr') as number | undefined;
  const zeroIsNone = (v: number | boolean | undefined): number | undefined => (v === 0 ? undefined : (v as number | undefined));
  const common: OptimizerConfig = clean({
    learningRate: schedule ?? rate,
    weightDecay: zeroIsNone(take('weightDecay')),
    clipNorm: zeroIsNone(take('clipnorm', 'clipNorm')),
    clipValue: zeroIsNone(take('clipvalue', 'clipValue')),
    globalClipNorm: zeroIsNone(take('globalClipnorm', 'globalClipNorm')),
  });
  let optimizer: Optimizer;
  switch (className.toLowerCase()) {
    case 'sgd':
    case 'momentum': {
      const momentum = take('momentum') as number | undefined;
      const nesterov = take('nesterov', 'useNesterov') as boolean | undefined;
      optimizer = new SGD({ ...common, ...clean({ momentum, nesterov }) });
      break;
    }
    case 'adam':
    case 'adamw': {
      const own = clean({ beta1: take('beta1') as number, beta2: take('beta2') as number, epsilon: take('epsilon') as number });
      optimizer = className.toLowerCase() === 'adamw' ? new AdamW({ ...common, ...own }) : new Adam({ ...common, ...own });
      break;
    }
    case 'rmsprop': {
      // TF.js' RMSProp calls ρ 'decay'; Keras 2's RMSprop uses 'decay' for learning-rate decay.
      const rho = take(className === 'RMSProp' ? 'decay' : 'rho') as number | undefined;
      const momentum = take('momentum');
      if (momentum !== undefined && momentum !== 0) throw new Error(`optimizer ${className}: momentum = ${momentum} is not supported`);
      optimizer = new RMSprop({ ...common, ...clean({ rho, epsilon: take('epsilon') as number }) });
      break;
    }
    default:
      throw new Error(`optimizer ${className} is not supported (known: SGD, Momentum, Adam, AdamW, RMSprop)`);
  }
  for (const [key, value] of cfg) {
    const ok = OPTIMIZER_INERT[key];
    if (!ok || !ok(value)) throw new Error(`optimizer ${className}: ${key} = ${JSON.stringify(value)} is not supported`);
  }
  return optimizer;
}

function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;
}
