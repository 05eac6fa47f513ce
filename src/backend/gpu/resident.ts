// The gpu backend's side of device-resident arrays (src/device-storage.ts): op results stay on the
// device as device arrays, ops take them back as handles, and the traffic between host and device is
// counted here, where it happens.
import type { Texture } from 'gpu.js';
import { deviceArray, deviceHandle, deviceState, evacuate, replaceHandle, toHost, type DeviceOwner, type DeviceState } from '../../device-storage.js';
import type { KernelHost, Value } from './hosts.js';

/** Host↔device traffic counts the backend reports in stats(). */
export interface TrafficCounts {
  uploads: number;
  uploadBytes: number;
  readbacks: number;
  readbackBytes: number;
}

/** An op argument: a device handle, a host array, or a device array (of this backend or another). */
export type Arg = Value | Int32Array;

/** What the backend's ops use to keep their results on the device. */
export interface Residency {
  readonly owner: DeviceOwner;
  /** The value a kernel gets for `a`: its handle when this backend holds it, else a host array (an upload). */
  resolve(a: Arg): Value;
  /**
   * Marks a kernel's result as on the device ('webasm': an array gpu.js made, not one the host sent);
   * `key` names the kernel that made it (a texture is read back through its kernel).
   */
  produced(v: Value, key?: string): void;
  /** Whether device arrays made by kernel `key` are alive (the kernel must not be destroyed yet). */
  holds(key: string): boolean;
  /** Whether a host array passed to a kernel is an upload (not a result already on the device). */
  isUpload(a: Float32Array): boolean;
  /** The kernel result `v` (n values) as a device array the caller may keep beyond the op. */
  result(v: Value, n: number): Float32Array;
  /** As {@link result}, an Int32Array (an argmax, kept as floats on the device). */
  intResult(v: Value, n: number): Int32Array;
  /** Puts `v` on the device as the new values of `target`, one of this backend's device arrays; false for any other array. */
  assign(target: Float32Array, v: Value): boolean;
  /** Reads a device result back to the host (counted). */
  read(v: Value): Float32Array;
  /** Device arrays alive and their bytes. */
  live(): { arrays: number; bytes: number };
  /** Reads every device array back and frees the device copies (before the device goes away). */
  evacuate(): void;
  /**
   * Runs fn; the device arrays its ops made are freed when it returns, except those updated in place
   * (weights, gradients, optimizer slots, moving statistics: state that outlives a step). A freed array
   * whose values were read keeps them on the host; one never read throws if read later.
   */
  scope<T>(fn: () => T): T;
}

/**
 * The residency of one backend on `host`; `combine` runs target ← p·a + q·b for gradient accumulation
 * and moving averages.
 */
export function createResidency(
  host: KernelHost,
  counts: TrafficCounts,
  combine: (target: Float32Array, a: Float32Array, b: Float32Array, p: number, q: number) => boolean,
): Residency {
  /** Device arrays by their current handle. */
  const live = new Map<unknown, DeviceState>();
  /** 'webasm' kernel results: arrays, but on gpu.js's side (resident), not uploads. */
  const onDevice = new WeakSet<Float32Array>();
  /** The kernel that made each result, and how many live device arrays each kernel made. */
  const producer = new WeakMap<object, string>();
  const perKernel = new Map<string, number>();
  let bytes = 0;
  /** Device arrays made inside each open scope, innermost last. */
  const scopes: DeviceState[][] = [];
  /** States an in-place op updated: they survive the scope that made them. */
  const kept = new WeakSet<DeviceState>();

  function count(handle: unknown, by: number): void {
    const key = producer.get(handle as object);
    if (key === undefined) return;
    const n = (perKernel.get(key) ?? 0) + by;
    if (n > 0) perKernel.set(key, n);
    else perKernel.delete(key);
  }

  function read(v: Value): Float32Array {
    const array = v instanceof Float32Array ? v.slice() : host.read(v as Texture);
    counts.readbacks++;
    counts.readbackBytes += array.byteLength;
    return array;
  }

  const owner: DeviceOwner = {
    read: (handle) => read(handle as Value),
    free(handle) {
      const state = live.get(handle);
      if (!state) return;
      live.delete(handle);
      count(handle, -1);
      bytes -= state.bytes;
      if (!(handle instanceof Float32Array)) host.free(handle as Texture);
    },
    combine,
  };

  function track(v: Value, state: DeviceState): void {
    if (!(v instanceof Float32Array)) host.retain(v as Texture);
    live.set(v, state);
    count(v, 1);
    bytes += state.bytes;
  }

  function made<T extends Float32Array | Int32Array>(a: T): T {
    scopes[scopes.length - 1]?.push(deviceState(a)!);
    return a;
  }

  return {
    owner,

    resolve(a) {
      if (!(a instanceof Float32Array) && !(a instanceof Int32Array)) return a;
      const handle = deviceHandle(a, owner);
      if (handle !== null) return handle as Value;
      const plain = toHost(a);
      return plain instanceof Int32Array ? Float32Array.from(plain) : plain;
    },

    produced(v, key) {
      if (v instanceof Float32Array) onDevice.add(v);
      else if (key !== undefined) producer.set(v, key);
    },

    holds: (key) => perKernel.has(key),

    isUpload: (a) => !onDevice.has(a),

    result(v, n) {
      if (n === 0) return new Float32Array(0);
      const a = deviceArray(owner, v, n, false);
      track(v, deviceState(a)!);
      return made(a);
    },

    intResult(v, n) {
      if (n === 0) return new Int32Array(0);
      const a = deviceArray(owner, v, n, true);
      track(v, deviceState(a)!);
      return made(a);
    },

    assign(target, v) {
      const state = deviceState(target);
      if (!state || state.owner !== owner) return false;
      replaceHandle(target, v);
      track(v, state);
      kept.add(state);
      return true;
    },

    read,

    live: () => ({ arrays: live.size, bytes }),

    scope(fn) {
      scopes.push([]);
      try {
        return fn();
      } finally {
        for (const state of scopes.pop()!) {
          if (kept.has(state) || state.handle === null) continue;
          owner.free(state.handle);
          state.handle = null;
        }
      }
    },

    evacuate() {
      for (const state of [...live.values()]) evacuate(state);
    },
  };
}
