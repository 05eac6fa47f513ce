// Hostile tensor input: strings, mixed arrays, self-containing arrays, other typed arrays.
// Each case is the smallest value that showed the problem; the one that used to hang and abort
// the process runs in a bounded child.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Dense } from '../../src/layers/index.js';
import { Sequential } from '../../src/model/sequential.js';
import { Tensor, tensor } from '../../src/tensor.js';
import { setSeed } from '../../src/util/random.js';
import { assertClose, backendTest, throws } from '../helpers.js';
import { expectChild, runChild, SRC } from './harness.js';

test("tensor(['cat', 'dog'], [2, 1]) throws at once instead of looping until the process aborts", () => {
  const r = runChild(
    `const { tensor } = await import(${JSON.stringify(SRC)});
     try { tensor(['cat', 'dog'], [2, 1]); console.log('ACCEPTED'); } catch (e) { console.log('REFUSED ' + e.message); }
     try { tensor(['cat', 'dog']); console.log('ACCEPTED'); } catch (e) { console.log('REFUSED ' + e.message); }`,
    { heapMB: 256, timeoutMs: 30_000 },
  );
  // The old loop ran out of the 256 MB heap and aborted (caught by the signal and output checks).
  // The RSS bound is the other hostile children's 600 MB: importing src under tsx peaked once at
  // 441 MB in a full run on a loaded machine (about 95 MB alone).
  expectChild(r, /REFUSED tensor: values must be numbers, got string "cat" at index 0\nREFUSED tensor: values must be numbers, got string "cat" at index 0/, 600, 'strings');
});

test("mixed arrays are refused, not converted: [1, '2', 'x'] used to become [1, 2, NaN]", () => {
  throws(() => tensor([1, '2', 'x'] as unknown as number[]), /tensor: values must be numbers, got string "2" at index 1/, 'flat');
  throws(() => tensor([1, '2'] as unknown as number[], [2]), /got string "2" at index 1/, 'flat with shape');
  throws(() => tensor([[1, 2], [3, '4']] as unknown as number[][]), /tensor: expected a number at depth 2, got string "4"/, 'nested');
  throws(() => tensor([[1], [null]] as unknown as number[][]), /tensor: expected a number at depth 2, got null/, 'null');
  throws(() => tensor([{ valueOf: () => 1 }] as unknown as number[]), /got Object at index 0/, 'object with valueOf');
  throws(() => tensor([['a']] as unknown as number[][]), /values must be numbers or arrays of numbers, got string "a" at depth 2/, 'nested string');
});

test('an array that contains itself, and nesting deeper than rank 6, throw instead of hanging', () => {
  const self: unknown[] = [];
  self.push(self);
  throws(() => tensor(self as never), /tensor: nested values deeper than rank 6 .*contains itself/, 'self');
  throws(() => tensor([[[[[[[1]]]]]]]), /deeper than rank 6/, 'rank 7');
  assert.equal([...tensor([[[[[[1]]]]]]).shape], [1, 1, 1, 1, 1, 1], 'rank 6 is fine');
});

test('BigInt arrays, DataViews and strings are refused by name', () => {
  throws(() => tensor(new BigInt64Array(2) as never), /tensor: values must be a number, an array or a typed array, got BigInt64Array/, 'BigInt64Array');
  throws(() => tensor(new DataView(new ArrayBuffer(8)) as never), /got DataView/, 'DataView');
  throws(() => tensor('12' as never), /got string "12"/, 'string');
});

test('new Tensor(Float64Array) throws instead of being read as float32 memory', () => {
  throws(() => new Tensor(new Float64Array([1, 2, 3, 4]) as never, [2, 2]), /Tensor: values must be a Float32Array, got Float64Array; use tensor\(values, shape\) to convert/, 'Float64Array');
  throws(() => new Tensor(new Uint8Array(4) as never, [4]), /got Uint8Array/, 'Uint8Array');
  throws(() => new Tensor([1, 2] as never, [2]), /got Array/, 'plain array');
});

backendTest('tensor() converts other typed arrays: predict on Float64Array / Int16Array input equals predict on Float32Array', async () => {
  setSeed(3);
  const m = new Sequential({ layers: [new Dense({ units: 2, activation: 'sigmoid', inputShape: [3] })] });
  const values = [1, -2, 3, 0.5, 4, -1];
  const expected = await (await m.predict(tensor(new Float32Array(values), [2, 3]))).data();
  const f64 = await (await m.predict(tensor(new Float64Array(values), [2, 3]))).data();
  assertClose(f64, expected, { atol: 0, rtol: 0 }, 'Float64Array input');
  const ints = [1, -2, 3, 0, 4, -1];
  const i16 = await (await m.predict(tensor(new Int16Array(ints), [2, 3]))).data();
  const i16ref = await (await m.predict(tensor(new Float32Array(ints), [2, 3]))).data();
  assertClose(i16, i16ref, { atol: 0, rtol: 0 }, 'Int16Array input');
  assert.not.ok(expected.every((v) => v === 0.5), 'the model is not constant');
});

test.run();
