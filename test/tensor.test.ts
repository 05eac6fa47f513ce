import { test } from 'uvu';
import * as assert from 'uvu/assert';
import ndarray from 'ndarray';
import { tensor, Tensor, type Tensor2D, type Tensor4D } from '../src/tensor.js';

test('tensor [2,3] from flat values', async () => {
  const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.equal(t.shape, [2, 3]);
  assert.is(t.rank, 2);
  assert.is(t.size, 6);
  assert.equal(Array.from(await t.data()), [1, 2, 3, 4, 5, 6]);
});

test('tensor infers shape [2,2] from nested arrays', () => {
  const t = tensor([[1, 2], [3, 4]]);
  assert.equal(t.shape, [2, 2]);
  assert.equal(t.arraySync(), [[1, 2], [3, 4]]);
});

test('tensor rejects a size mismatch and ragged arrays', () => {
  assert.throws(() => tensor([1, 2, 3], [2, 2]), /3 values do not fill shape \[2, 2\]/);
  assert.throws(() => tensor([[1, 2], [3]]), /ragged/);
  assert.throws(() => tensor([1, 2], [-1, -2]), /dimension -1/);
});

test('reshape [2,3] -> [3,-1] copies and infers', () => {
  const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const r = t.reshape([3, -1]);
  assert.equal(r.shape, [3, 2]);
  r.values[0] = 99;
  assert.is(t.values[0], 1);
  assert.throws(() => t.reshape([4, 2]), /cannot become \[4, 2\]/);
});

test('ndarray interop honours strides of a transposed view', () => {
  const a = ndarray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  const t = Tensor.fromNdarray(a.transpose(1, 0));
  assert.equal(t.shape, [3, 2]);
  assert.equal(Array.from(t.values), [1, 4, 2, 5, 3, 6]);
  const back = t.toNdarray();
  assert.is(back.get(2, 1), 6);
});

test('rank is in the type', () => {
  const t4: Tensor4D = tensor(new Float32Array(8), [1, 2, 2, 2]);
  const t2: Tensor2D = tensor(new Float32Array(4), [2, 2]);
  // @ts-expect-error a Tensor2D is not a Tensor4D
  const bad: Tensor4D = t2;
  assert.is(t4.rank + bad.rank, 6);
});

test.run();
