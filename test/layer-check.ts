// The central-difference gradient check of one layer (method and tolerances: the header of
// test/gradcheck.test.ts), shared by the gradcheck test files.
import * as assert from 'uvu/assert';
import type { Layer } from '../src/layers/index.js';
import type { LayersModel } from '../src/model/layers-model.js';
import { SGD } from '../src/train/optimizers.js';
import { Random } from '../src/util/random.js';
import { wrap, type Shape, type Tensor } from '../src/tensor.js';
import { assertClose, dot, numericGradient, randomArray, type Tolerance } from './helpers.js';

export const TOL: Tolerance = { atol: 5e-4, rtol: 5e-3 };
export const H = 1e-2;

export const asTensor = (values: Float32Array, shape: readonly number[]): Tensor => wrap(values, [...shape] as unknown as Shape);

/** Builds the layer for `inShape` (with batch axis), draws weights, then overwrites every weight with random values. */
export function prepare(layer: Layer, inShape: readonly number[], seed: number): void {
  layer.build(inShape.slice(1));
  layer.initializeWeights(new Random(seed));
  layer.params().forEach((p, k) => {
    // Gamma near 1, everything else around 0: non-trivial but well conditioned.
    const centre = /gamma|moving_variance/.test(p.name) ? 1 : 0;
    p.value.set(randomArray(p.value.length, seed * 31 + k, centre - 0.5, centre + 0.5));
  });
}

export interface CheckOptions {
  /** Makes the layer that runs each forward; defaults to the one prepared layer. Dropout passes fresh seeded layers. */
  instance?: () => Layer;
  h?: number;
  tol?: Tolerance;
}

/**
 * The gradient check of one layer on input x [inShape]. Returns the analytic dx so callers can
 * add extra assertions.
 */
export function checkLayer(what: string, layer: Layer, x: Float32Array, inShape: readonly number[], opts: CheckOptions = {}): Float32Array {
  const h = opts.h ?? H;
  const tol = opts.tol ?? TOL;
  const run = (): Tensor => (opts.instance ? opts.instance() : layer).forward(asTensor(x, inShape), { training: true, rng: new Random(99) });

  const actor = opts.instance ? opts.instance() : layer;
  const y = actor.forward(asTensor(x, inShape), { training: true, rng: new Random(99) });
  const r = randomArray(y.size, 7 + y.size, -1, 1);
  for (const p of layer.params()) p.grad.fill(0);
  const dx = actor.backward(asTensor(r, y.shape), true);
  assert.ok(dx, `${what}: backward returned no dx`);
  assert.equal([...dx!.shape], [...inShape], `${what}: dx shape`);

  const loss = (): number => dot(r, run().values);
  assertClose(dx!.values, numericGradient(loss, x, h), tol, `${what}: dL/dx`);
  for (const p of layer.params()) {
    if (!p.trainable) continue;
    const analytic = p.grad.slice();
    assert.ok(analytic.some((g) => g !== 0), `${what}: ${p.name} got an all-zero gradient`);
    assertClose(analytic, numericGradient(loss, p.value, h), tol, `${what}: dL/d${p.name}`);
  }
  return dx!.values;
}

/** Distinct values at least 4/n apart, shuffled: no two cells of a window are within 2h of each other. */
export function distinctValues(n: number, seed: number): Float32Array {
  const order = randomArray(n, seed, 0, 1);
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => order[a] - order[b]);
  const out = new Float32Array(n);
  idx.forEach((k, rank) => (out[k] = -2 + (4 * rank) / n));
  return out;
}


/**
 * A whole model's weight gradients (one `trainOnBatch` with a negligible learning rate) against
 * central differences of `evaluate`'s loss, parameter by parameter, with step `h`.
 */
export async function checkModelGradients(what: string, m: LayersModel, x: Tensor, y: Tensor, h: number): Promise<void> {
  m.compile({ optimizer: new SGD({ learningRate: 1e-30 }), loss: 'meanSquaredError' });
  await m.trainOnBatch(x, y);
  for (const p of m.params()) {
    const analytic = p.grad.slice();
    assert.ok(analytic.some((g) => g !== 0), `${p.name}: all-zero gradient`);
    const numeric = new Float64Array(p.value.length);
    for (let i = 0; i < p.value.length; i++) {
      const orig = p.value[i];
      p.value[i] = orig + h;
      const up = (await m.evaluate(x, y)).loss;
      p.value[i] = orig - h;
      const down = (await m.evaluate(x, y)).loss;
      p.value[i] = orig;
      numeric[i] = (up - down) / (2 * h);
    }
    assertClose(analytic, numeric, TOL, `${what}: dL/d${p.name}`);
  }
}
