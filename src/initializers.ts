import type { Random } from './util/random.js';

/** Initializer names accepted by `kernelInitializer` / `biasInitializer` (camelCase or Keras snake_case). */
export type InitializerName =
  | 'zeros'
  | 'ones'
  | 'glorotUniform'
  | 'glorotNormal'
  | 'heUniform'
  | 'heNormal'
  | 'lecunUniform'
  | 'lecunNormal'
  | 'randomUniform'
  | 'randomNormal';

/** Fills a parameter of the given shape; `fans` are Keras' fan-in and fan-out for that shape. */
export interface Initializer {
  readonly name: string;
  init(shape: readonly number[], rng: Random): Float32Array;
}

/** Keras' fans: Dense `[in, out]`; conv `[kh, kw, in, out]` → fanIn = kh·kw·in, fanOut = kh·kw·out. */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] };
  let receptive = 1;
  for (let i = 0; i < shape.length - 2; i++) receptive *= shape[i];
  return { fanIn: receptive * shape[shape.length - 2], fanOut: receptive * shape[shape.length - 1] };
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Keras' variance scaling: a truncated normal's stddev is divided by 0.8796… so the variance is exact. */
function varianceScaling(name: string, scale: number, mode: 'fanIn' | 'fanOut' | 'fanAvg', distribution: 'uniform' | 'normal'): Initializer {
  return {
    name,
    init(shape, rng) {
      const { fanIn, fanOut } = computeFans(shape);
      const n = mode === 'fanIn' ? fanIn : mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2;
      const variance = scale / Math.max(1, n);
      const out = new Float32Array(size(shape));
      if (distribution === 'uniform') {
        const limit = Math.sqrt(3 * variance);
        for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-limit, limit);
      } else {
        const std = Math.sqrt(variance) / 0.87962566103423978;
        for (let i = 0; i < out.length; i++) out[i] = std * rng.truncatedNormal();
      }
      return out;
    },
  };
}

const constant = (name: string, value: number): Initializer => ({
  name,
  init: (shape) => new Float32Array(size(shape)).fill(value),
});

const initializers: Record<InitializerName, Initializer> = {
  zeros: constant('zeros', 0),
  ones: constant('ones', 1),
  glorotUniform: varianceScaling('glorotUniform', 1, 'fanAvg', 'uniform'),
  glorotNormal: varianceScaling('glorotNormal', 1, 'fanAvg', 'normal'),
  heUniform: varianceScaling('heUniform', 2, 'fanIn', 'uniform'),
  heNormal: varianceScaling('heNormal', 2, 'fanIn', 'normal'),
  lecunUniform: varianceScaling('lecunUniform', 1, 'fanIn', 'uniform'),
  lecunNormal: varianceScaling('lecunNormal', 1, 'fanIn', 'normal'),
  randomUniform: { name: 'randomUniform', init: (shape, rng) => new Float32Array(size(shape)).map(() => rng.uniform(-0.05, 0.05)) },
  randomNormal: { name: 'randomNormal', init: (shape, rng) => new Float32Array(size(shape)).map(() => 0.05 * rng.normal()) },
};

/** snake_case → camelCase, so `'glorot_uniform'` works as in Keras. */
export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
}

/** Looks an initializer up by name (camelCase or snake_case) or passes one through. */
export function getInitializer(spec: InitializerName | string | Initializer, owner: string): Initializer {
  if (typeof spec !== 'string') return spec;
  const found = initializers[camelCase(spec) as InitializerName];
  if (!found) throw new Error(`${owner}: unknown initializer '${spec}'; known: ${Object.keys(initializers).join(', ')}`);
  return found;
}
