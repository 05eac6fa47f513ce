import ndarray from 'ndarray';
import { deviceState, disposeDeviceArray } from './device-storage.js';

// The ndarray views of toNdarray/fromNdarray are typed here, not with @types/ndarray: the published
// declarations then need no package the consumer may not have. An ndarray NdArray fits both.

/** The parts of an `ndarray` (the npm package) view that {@link Tensor.toNdarray} returns. */
export interface NdarrayView {
  data: Float32Array;
  shape: number[];
  stride: number[];
  offset: number;
  size: number;
  dimension: number;
  get(...indices: number[]): number;
  set(...args: number[]): number;
  index(...indices: number[]): number;
}

/** What {@link Tensor.fromNdarray} reads from an `ndarray` view: its shape and element getter. */
export interface NdarrayLike {
  readonly shape: readonly number[];
  get(...indices: number[]): unknown;
}

/** Tensor ranks tscnn knows about. */
export type Rank = 0 | 1 | 2 | 3 | 4 | 5 | 6;

/** The shape tuple of each rank; channels-last, e.g. `[batch, height, width, channels]` for rank 4. */
export interface ShapeMap {
  0: [];
  1: [number];
  2: [number, number];
  3: [number, number, number];
  4: [number, number, number, number];
  5: [number, number, number, number, number];
  6: [number, number, number, number, number, number];
}

/** A shape of rank `R`. */
export type Shape<R extends Rank = Rank> = ShapeMap[R];

/** Values accepted by {@link tensor}: flat or nested arrays of numbers, or a typed array. */
export type TensorLike = number | ArrayLike<number> | readonly TensorLike[];

/**
 * A dense float32 tensor. The rank is part of the type, so passing a `Tensor3D` where a
 * `Tensor4D` is expected is a compile error.
 *
 * @example
 * const x = tensor([1, 2, 3, 4], [2, 2]); // Tensor2D
 * x.shape; // [2, 2]
 * await x.data(); // Float32Array [1, 2, 3, 4]
 */
export class Tensor<R extends Rank = Rank> {
  readonly shape: ShapeMap[R];
  readonly rank: R;
  readonly size: number;
  /**
   * Backing store, row-major. Internal: ops read it directly; users go through `data()`. On the gpu
   * backend it may be a device array (src/device-storage.ts): its values are read back on first host use.
   */
  readonly values: Float32Array;

  constructor(values: Float32Array, shape: ShapeMap[R]) {
    // Kernels read `values` as float32 memory: a Float64Array here would be reinterpreted, not converted.
    if (!(values instanceof Float32Array)) {
      throw new Error(`Tensor: values must be a Float32Array, got ${describeValue(values)}; use tensor(values, shape) to convert other arrays`);
    }
    const size = shapeSize(shape as readonly number[], 'Tensor');
    if (values.length !== size) {
      throw new Error(`Tensor: ${values.length} values do not fill shape [${shape.join(', ')}] (needs ${size})`);
    }
    this.values = values;
    this.shape = Object.freeze([...(shape as number[])]) as unknown as ShapeMap[R];
    this.rank = (shape as number[]).length as R;
    this.size = size;
  }

  /** The values as a new Float32Array (a copy: changing it does not change the tensor). */
  async data(): Promise<Float32Array> {
    return this.dataSync();
  }

  /** Synchronous {@link data}; the CPU backends always allow it. */
  dataSync(): Float32Array {
    return this.values.slice();
  }

  /** Whether the values are on a device (the gpu backend's result, not read back yet). */
  get onDevice(): boolean {
    const state = deviceState(this.values);
    return state !== null && state.handle !== null && !state.hostValid;
  }

  /**
   * Frees the device memory behind this tensor now (without waiting for garbage collection); a no-op for
   * host tensors. Its values must not be read afterwards unless they were read before.
   *
   * @example
   * const y = model.predict(x);
   * const values = await y.data();
   * y.dispose();
   */
  dispose(): void {
    disposeDeviceArray(this.values);
  }

  /** The values as nested JavaScript arrays. */
  arraySync(): unknown {
    const shape = this.shape as readonly number[];
    if (shape.length === 0) return this.values[0];
    const build = (dim: number, offset: number): unknown[] => {
      const n = shape[dim];
      let stride = 1;
      for (let d = dim + 1; d < shape.length; d++) stride *= shape[d];
      const out: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = dim === shape.length - 1 ? this.values[offset + i] : build(dim + 1, offset + i * stride);
      }
      return out;
    };
    return build(0, 0);
  }

  /**
   * The same values under another shape with the same size. One entry may be -1 (inferred).
   * Shares no storage with this tensor.
   */
  reshape<const S extends readonly number[]>(shape: S): Tensor<RankOf<S>> {
    const resolved = [...shape];
    const inferred = resolved.indexOf(-1);
    if (inferred >= 0) {
      const known = resolved.reduce((a, d, i) => (i === inferred ? a : a * d), 1);
      if (known <= 0 || this.size % known !== 0) {
        throw new Error(`reshape: cannot infer -1 in [${shape.join(', ')}] for ${this.size} values`);
      }
      resolved[inferred] = this.size / known;
    }
    const size = shapeSize(resolved, 'reshape');
    if (size !== this.size) {
      throw new Error(`reshape: [${this.shape.join(', ')}] (${this.size} values) cannot become [${shape.join(', ')}] (${size} values)`);
    }
    return new Tensor(this.values.slice(), resolved as unknown as ShapeMap[RankOf<S>]);
  }

  /** A copy as an `ndarray` (the npm package), same shape, row-major. */
  toNdarray(): NdarrayView {
    return ndarray(this.values.slice(), [...(this.shape as readonly number[])]);
  }

  /** Builds a tensor from an `ndarray`, honouring its strides and offset (any view). */
  static fromNdarray(array: NdarrayLike): Tensor {
    const shape = [...array.shape];
    if (shape.length > 6) throw new Error(`fromNdarray: rank ${shape.length} is above the supported 6`);
    const size = shapeSize(shape, 'fromNdarray');
    const out = new Float32Array(size);
    const index = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < size; i++) {
      out[i] = array.get(...index) as number;
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++index[d] < shape[d]) break;
        index[d] = 0;
      }
    }
    return new Tensor(out, shape as unknown as Shape);
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}])`;
  }
}

export type Tensor0D = Tensor<0>;
export type Tensor1D = Tensor<1>;
export type Tensor2D = Tensor<2>;
export type Tensor3D = Tensor<3>;
export type Tensor4D = Tensor<4>;

/** The rank of a shape tuple type. */
export type RankOf<S extends readonly number[]> = S['length'] extends Rank ? S['length'] : Rank;

/** Most values one tensor or weight may hold (2³¹ − 1). */
export const MAX_TENSOR_SIZE = 2 ** 31 - 1;

/** Number of elements of a shape; throws naming `op` when a dimension is not a non-negative integer or the size is over {@link MAX_TENSOR_SIZE}. */
export function shapeSize(shape: readonly number[], op: string): number {
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${op}: shape [${shape.join(', ')}] has dimension ${d}; dimensions must be non-negative integers`);
    }
    size *= d;
  }
  // Kernels index with 32-bit integers; beyond this a typed array fails with a message naming nothing.
  if (size > MAX_TENSOR_SIZE) {
    throw new Error(`${op}: shape [${shape.join(', ')}] has ${size.toLocaleString('en-US')} values, more than the ${MAX_TENSOR_SIZE.toLocaleString('en-US')} a tensor or weight can hold`);
  }
  return size;
}

/** What `v` is, for error messages: `string "x"`, `Float64Array`, `object`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)}`;
  if (typeof v === 'object' || typeof v === 'function') return (v as object).constructor?.name ?? typeof v;
  return `${typeof v} ${String(v)}`;
}

/** Arrays and numeric typed arrays are the only containers: a string has `.length` and `'a'[0]` is `'a'`. */
function isContainer(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array));
}

function inferShape(values: TensorLike): number[] {
  const shape: number[] = [];
  let v: unknown = values;
  while (typeof v !== 'number') {
    if (!isContainer(v)) throw new Error(`tensor: values must be numbers or arrays of numbers, got ${describeValue(v)} at depth ${shape.length}`);
    if (shape.length === 6) throw new Error('tensor: nested values deeper than rank 6 (the supported maximum), or an array that contains itself');
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  return shape;
}

/** Checks that a flat array holds only numbers (typed arrays always do). */
function checkFlat(values: ArrayLike<unknown>): void {
  if (ArrayBuffer.isView(values)) {
    if (!isContainer(values)) throw new Error(`tensor: values must be numbers, got a ${describeValue(values)}`);
    return;
  }
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== 'number') throw new Error(`tensor: values must be numbers, got ${describeValue(values[i])} at index ${i}`);
  }
}

function flatten(values: TensorLike, out: Float32Array, shape: readonly number[]): void {
  let k = 0;
  const walk = (v: unknown, dim: number): void => {
    if (dim === shape.length) {
      if (typeof v !== 'number') throw new Error(`tensor: expected a number at depth ${dim}, got ${describeValue(v)} (ragged nested array?)`);
      out[k++] = v;
      return;
    }
    const arr = v as ArrayLike<unknown>;
    if (!isContainer(v) || arr.length !== shape[dim]) {
      throw new Error(`tensor: ragged nested array: expected length ${shape[dim]} at depth ${dim}`);
    }
    for (let i = 0; i < arr.length; i++) walk(arr[i], dim + 1);
  };
  walk(values, 0);
}

/**
 * Creates a float32 tensor.
 *
 * @param values numbers, nested arrays or a typed array (copied)
 * @param shape optional shape; inferred from nested arrays when omitted
 * @example
 * const img = tensor(new Float32Array(100 * 100 * 3), [1, 100, 100, 3]); // Tensor4D
 * const m = tensor([[1, 2], [3, 4]]); // shape [2, 2]
 */
export function tensor<const S extends readonly number[]>(values: TensorLike, shape: S): Tensor<RankOf<S>>;
export function tensor(values: TensorLike): Tensor;
export function tensor(values: TensorLike, shape?: readonly number[]): Tensor {
  if (typeof values === 'number') {
    const s = shape ?? [];
    const size = shapeSize(s, 'tensor');
    return new Tensor(new Float32Array(size).fill(values), [...s] as unknown as Shape);
  }
  if (!isContainer(values)) throw new Error(`tensor: values must be a number, an array or a typed array, got ${describeValue(values)}`);
  const isFlat = ArrayBuffer.isView(values) || values.length === 0 || !isContainer(values[0]);
  if (isFlat) checkFlat(values);
  if (shape) {
    const size = shapeSize(shape, 'tensor');
    if (shape.length > 6) throw new Error(`tensor: rank ${shape.length} is above the supported 6`);
    const out = new Float32Array(size);
    if (isFlat) {
      const flat = values as ArrayLike<number>;
      if (flat.length !== size) {
        throw new Error(`tensor: ${flat.length} values do not fill shape [${shape.join(', ')}] (needs ${size})`);
      }
      out.set(flat);
    } else {
      const inferred = inferShape(values);
      if (shapeSize(inferred, 'tensor') !== size) {
        throw new Error(`tensor: nested values of shape [${inferred.join(', ')}] do not fill shape [${shape.join(', ')}]`);
      }
      flatten(values, out, inferred);
    }
    return new Tensor(out, [...shape] as unknown as Shape);
  }
  const inferred = isFlat ? [(values as ArrayLike<number>).length] : inferShape(values);
  const out = new Float32Array(shapeSize(inferred, 'tensor'));
  if (isFlat) out.set(values as ArrayLike<number>);
  else flatten(values, out, inferred);
  return new Tensor(out, inferred as unknown as Shape);
}

/** Wraps a Float32Array without copying. Internal helper for ops. */
export function wrap<R extends Rank>(values: Float32Array, shape: ShapeMap[R]): Tensor<R> {
  return new Tensor<R>(values, shape);
}
