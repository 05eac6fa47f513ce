// Shared by the ONNX export tests: random weights, a short training run, and the comparison of
// tscnn's predict with ONNX Runtime on the exported bytes.
import * as ort from 'onnxruntime-node';
import * as assert from 'uvu/assert';
import { onnxModel, toOnnx } from '../src/io/onnx/export.js';
import type { LayersModel } from '../src/model/layers-model.js';
import { Adam } from '../src/train/optimizers.js';
import { Tensor, type Shape } from '../src/tensor.js';
import { assertClose, randomArray } from './helpers.js';

/** The tolerance for ONNX Runtime against predict. */
export const TOL = { atol: 1e-4, rtol: 1e-3 };

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Every weight random (variances in [0.5, 1.5]), so that biases, betas and moving statistics all matter. */
export function randomizeWeights(model: LayersModel, seed: number): void {
  const weights = model.getWeights().map((w, i) => {
    const variance = model.params()[i]!.name.endsWith('moving_variance');
    const values = variance ? randomArray(w.size, seed + i, 0.5, 1.5) : randomArray(w.size, seed + i, -0.7, 0.7);
    return new Tensor(values, w.shape);
  });
  model.setWeights(weights);
}

/** Runs the model in tscnn and in ONNX Runtime (one session) on each batch size; asserts they agree. */
export async function checkAgainstOrt(model: LayersModel, batches: number[], seed: number, what: string, range: [number, number] = [-2, 2]): Promise<void> {
  const bytes = await toOnnx(model);
  const session = await ort.InferenceSession.create(bytes);
  try {
    for (const n of batches) {
      const shape = [n, ...model.inputShape];
      const x = randomArray(size(shape), seed + n, range[0], range[1]);
      const want = (await model.predict(new Tensor(x, shape as unknown as Shape))) as Tensor;
      const got = (await session.run({ input: new ort.Tensor('float32', x, shape) })).output!;
      assert.equal([...got.dims], [...want.shape], `${what}: ONNX output dims at batch ${n}`);
      assertClose(got.data as Float32Array, want.dataSync(), TOL, `${what} (batch ${n})`);
    }
  } finally {
    await session.release();
  }
}

/**
 * A few Adam steps (mean squared error to random targets) on random inputs: moves every weight
 * and the BatchNormalization moving statistics away from their drawn values. Returns the number
 * of parameters that changed.
 */
export async function trainBriefly(model: LayersModel, seed: number): Promise<number> {
  model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'meanSquaredError' });
  const before = model.getWeights().map((w) => w.dataSync().slice());
  const n = 12;
  const x = new Tensor(randomArray(n * size(model.inputShape), seed, -1, 1), [n, ...model.inputShape] as unknown as Shape);
  const y = new Tensor(randomArray(n * size(model.outputShape), seed + 1, 0, 1), [n, ...model.outputShape] as unknown as Shape);
  await model.fit(x, y, { epochs: 2, batchSize: 4, seed, verbose: 0 });
  return model.getWeights().filter((w, i) => w.dataSync().some((v, j) => v !== before[i]![j])).length;
}

/** How many nodes of each op type the exported graph has. */
export function opCounts(model: LayersModel): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const node of onnxModel(model).graph.node) counts[node.opType] = (counts[node.opType] ?? 0) + 1;
  return counts;
}
