// Type tests. The `// @ts-expect-error` lines are checked by `tsc --noEmit -p tsconfig.json`
// (CI runs it): if one of them stops being an error, tsc fails with "Unused '@ts-expect-error'
// directive". The statements sit in functions that are never called, so nothing runs at test
// time; the uvu tests below check the inferred ranks at runtime as well.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Conv2D, Dense, Dropout, MaxPooling2D } from '../src/layers/index.js';
import { SGD } from '../src/train/optimizers.js';
import { Sequential } from '../src/model/sequential.js';
import { tensor, type Tensor, type Tensor2D, type Tensor3D, type Tensor4D } from '../src/tensor.js';

function takes4D(t: Tensor4D): number {
  return t.shape[3];
}
function takes2D(t: Tensor2D): number {
  return t.shape[1];
}

/** Never called: compile-time checks only. */
export function rankErrors(t3: Tensor3D, t4: Tensor4D, t2: Tensor2D, any: Tensor): void {
  takes4D(t4);
  // @ts-expect-error a Tensor3D is not a Tensor4D
  takes4D(t3);
  // @ts-expect-error a Tensor2D is not a Tensor4D
  takes4D(t2);
  // @ts-expect-error a tensor of unknown rank is not a Tensor4D
  takes4D(any);
  // @ts-expect-error a Tensor4D is not a Tensor2D
  takes2D(t4);
  // @ts-expect-error the shape of a Tensor3D has no fourth entry
  const c: number = t3.shape[3];
  // @ts-expect-error a rank-4 shape cannot be assigned a rank-3 tuple
  const s: Tensor4D['shape'] = [1, 2, 3];
  // @ts-expect-error the rank is a literal type: 3 is not 4
  const r: 4 = t3.rank;
  const widened: Tensor = t4; // any rank widens to Tensor
  void [c, s, r, widened];
}

/** Never called: the shape argument decides the rank. */
export function inferredRanks(): void {
  const img = tensor(new Float32Array(12), [1, 2, 2, 3]);
  takes4D(img);
  const flat = tensor(new Float32Array(12), [12]);
  // @ts-expect-error a rank-1 tensor built from shape [12] is not a Tensor4D
  takes4D(flat);
  const m = tensor([
    [1, 2],
    [3, 4],
  ]);
  // @ts-expect-error without a shape argument the rank is unknown at compile time
  takes2D(m);
  const reshaped = img.reshape([4, 3]);
  takes2D(reshaped);
  // @ts-expect-error reshape to [4, 3] gives a Tensor2D
  takes4D(reshaped);
}

/** Never called: layer and model options are typed. */
export function optionErrors(): void {
  // @ts-expect-error unknown activation name
  new Dense({ units: 1, activation: 'relux' });
  // @ts-expect-error units is required
  new Dense({ activation: 'relu' });
  // @ts-expect-error padding is 'valid' | 'same'
  new Conv2D({ filters: 1, kernelSize: 3, padding: 'full' });
  // @ts-expect-error kernelSize is a number or a pair
  new Conv2D({ filters: 1, kernelSize: [3, 3, 3] });
  // @ts-expect-error rate is required
  new Dropout({});
  // @ts-expect-error misspelled option
  new MaxPooling2D({ pool_size: 2 });
  // @ts-expect-error misspelled option
  new SGD({ learning_rate: 0.1 });
  const model = new Sequential();
  // @ts-expect-error misspelled option of fit
  void model.fit(tensor([1], [1, 1]), tensor([1], [1, 1]), { epoch: 3 });
  // @ts-expect-error compile needs a loss
  model.compile({ optimizer: 'sgd' });
  // @ts-expect-error predict returns a Promise, not a Tensor
  const p: Tensor = model.predict(tensor([1], [1, 1]));
  void p;
}

test('runtime ranks agree with the compile-time ones', () => {
  const img = tensor(new Float32Array(12), [1, 2, 2, 3]);
  assert.is(img.rank, 4);
  assert.is(takes4D(img), 3);
  const r = img.reshape([4, 3]);
  assert.is(r.rank, 2);
  assert.is(takes2D(r), 3);
  assert.equal([...img.reshape([2, -1]).shape], [2, 6]);
});

test.run();
