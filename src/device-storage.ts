// Tensor storage that may live on a backend's device.
//
// Layers, losses and optimizers hold their data as Float32Array (the op table's type). A device backend
// hands out arrays whose storage is a device handle (a gpu.js texture, a WebGPU buffer) instead: each is
// a Proxy over a host Float32Array (or Int32Array) of the right length whose values are read back from
// the device on the first host access (an index, a method, `.buffer`), counted by the backend as one
// readback. The backend's own ops take the handle and never read back. A host write (index assignment,
// set, fill, a view of its buffer) makes the host copy the truth and drops the device copy, so host code
// that the device path does not cover stays correct, only slower. The device memory is freed by
// disposeDeviceArray, when the backend is disposed (after reading everything it holds back), or when
// the array is garbage collected.

/** What a device array's backend does with its handle. */
export interface DeviceOwner {
  /** Reads the handle's values (`length` floats) back to the host. */
  read(handle: unknown, length: number): Float32Array;
  /** Frees the handle's device memory. */
  free(handle: unknown): void;
  /** target ← p·a + q·b on the device, `target` one of this owner's device arrays; false (nothing done) once the owner is gone. */
  combine(target: Float32Array, a: Float32Array, b: Float32Array, p: number, q: number): boolean;
}

type HostArray = Float32Array | Int32Array;

/** One device array's state. It holds no reference to the proxy, so the proxy can be collected. */
export interface DeviceState {
  readonly owner: DeviceOwner;
  /** The device copy, or null once a host write made the host copy the only one. */
  handle: unknown;
  /** Bytes of the device copy (4 per element). */
  readonly bytes: number;
  /** The host copy; valid only when `hostValid`. */
  readonly host: HostArray;
  hostValid: boolean;
  /** Every value is 0 (set by `fill(0)`; a device op may then read no copy at all). */
  zero: boolean;
}

/** States by device array (the proxy), and by the host array behind it (what the proxy handler gets). */
const states = new WeakMap<object, DeviceState>();
const targets = new WeakMap<HostArray, DeviceState>();

// Freed when the array is collected; the backend frees pending handles at its next op (a finalizer runs
// between tasks, never inside an op whose kernels may still read the handle).
const collected = new FinalizationRegistry<DeviceState>((state) => dropHandle(state));

function dropHandle(state: DeviceState): void {
  if (state.handle === null) return;
  const handle = state.handle;
  state.handle = null;
  state.owner.free(handle);
}

/** Brings the host copy up to date (one readback) when only the device copy is. */
function sync(state: DeviceState): void {
  if (state.hostValid) return;
  if (state.handle === null) throw new Error(`device array of ${state.host.length} values read after it was disposed`);
  const values = state.owner.read(state.handle, state.host.length);
  if (state.host instanceof Int32Array) for (let i = 0; i < values.length; i++) state.host[i] = values[i];
  else state.host.set(values);
  state.hostValid = true;
}

/** After a host write the host copy is the only one. */
function hostWrite(state: DeviceState): void {
  sync(state);
  dropHandle(state);
  state.zero = false;
}

/** `fill(0)` over the whole array (how gradients are reset each step) only marks it zero. */
function fill(target: HostArray, state: DeviceState, args: unknown[]): HostArray {
  if (args.length === 1 && args[0] === 0) {
    dropHandle(state);
    target.fill(0);
    state.hostValid = true;
    state.zero = true;
    return target;
  }
  hostWrite(state);
  return (target.fill as (...a: unknown[]) => HostArray)(...args);
}

// Methods that change the array; every other one only reads. subarray and buffer are views through
// which the host may write, so they make the host copy the only one as well.
const WRITERS = new Set<PropertyKey>(['set', 'fill', 'copyWithin', 'sort', 'reverse', 'subarray', 'buffer']);

const handler: ProxyHandler<HostArray> = {
  get(target, key) {
    const state = targets.get(target)!;
    if (key === 'length') return target.length;
    if (key === 'fill') return (...args: unknown[]) => fill(target, state, args);
    if (WRITERS.has(key)) hostWrite(state);
    else sync(state);
    const value = Reflect.get(target, key, target) as unknown;
    return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
  },
  set(target, key, value) {
    hostWrite(targets.get(target)!);
    return Reflect.set(target, key, value, target);
  },
  has(target, key) {
    return Reflect.has(target, key);
  },
  ownKeys(target) {
    sync(targets.get(target)!);
    return Reflect.ownKeys(target);
  },
  getOwnPropertyDescriptor(target, key) {
    sync(targets.get(target)!);
    return Reflect.getOwnPropertyDescriptor(target, key);
  },
};

/**
 * An array of `length` elements whose values are `handle` on `owner`'s device: `int` for an Int32Array
 * (an argmax; the device holds its indices as floats). It is `instanceof` Float32Array (Int32Array).
 */
export function deviceArray(owner: DeviceOwner, handle: unknown, length: number, int: true): Int32Array;
export function deviceArray(owner: DeviceOwner, handle: unknown, length: number, int: false): Float32Array;
export function deviceArray(owner: DeviceOwner, handle: unknown, length: number, int: boolean): HostArray {
  const host = int ? new Int32Array(length) : new Float32Array(length);
  const state: DeviceState = { owner, handle, bytes: 4 * length, host, hostValid: false, zero: false };
  const proxy = new Proxy(host, handler);
  targets.set(host, state);
  states.set(proxy, state);
  collected.register(proxy, state, proxy);
  return proxy;
}

/** The device state of `a`, or null for a plain host array. */
export function deviceState(a: object): DeviceState | null {
  return states.get(a) ?? null;
}

/** The device handle of `a` when `owner` holds a current copy of it on its device, else null. */
export function deviceHandle(a: object, owner: DeviceOwner): unknown {
  const state = states.get(a);
  return state && state.owner === owner && state.handle !== null ? state.handle : null;
}

/** Gives `a`'s device array a new device copy (an in-place update on the device); the old one is freed. */
export function replaceHandle(a: object, handle: unknown): void {
  const state = states.get(a)!;
  dropHandle(state);
  state.handle = handle;
  state.hostValid = false;
  state.zero = false;
}

/**
 * target ← p·a + q·b on the device when `target` is a device array (a, b may be either kind); returns
 * false, changing nothing, when it is a host array: the caller then computes it on the host.
 */
export function deviceCombine(target: Float32Array, a: Float32Array, b: Float32Array, p: number, q: number): boolean {
  const state = states.get(target);
  return state ? state.owner.combine(target, a, b, p, q) : false;
}

/** Reads a device array's values back and frees its device copy (its owner is going away). */
export function evacuate(state: DeviceState): void {
  sync(state);
  dropHandle(state);
}

/** A plain host array with `a`'s values: `a` itself, or the host copy of a device array (read back when stale). */
export function toHost<T extends HostArray>(a: T): T {
  const state = states.get(a);
  if (!state) return a;
  sync(state);
  return state.host as T;
}

/** Reads a device array's values to the host now (a no-op for host arrays); its device copy stays. */
export function syncToHost(a: object): void {
  const state = states.get(a);
  if (state) sync(state);
}

/**
 * Frees the device memory of `a` now, reading its values back first when `keepValues` (else the array
 * must not be read again). Host arrays are left alone.
 */
export function disposeDeviceArray(a: object, keepValues = false): void {
  const state = states.get(a);
  if (!state) return;
  if (keepValues) sync(state);
  dropHandle(state);
  collected.unregister(a);
}
