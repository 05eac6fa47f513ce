// Operands and results of the fast ops in the engine's memory: resident outputs (views of regions
// the active arena holds, src/backend/arena.ts), staging inputs in, copying results out.
import { inArena, outputF32, outputI32, residentRegion } from '../arena.js';
import { cpuConfig } from '../config.js';
import { getEngine, type Engine } from './engine.js';
import { platform } from './platform.js';

/**
 * A resident output of `count` floats: a view of a region of the engine's memory that the active
 * arena holds until its next step (see src/backend/arena.ts), or null (outside a model step,
 * small, no room, or `residentOutputs: false`). Call it before placing the op's scratch: a new
 * region moves workBase. An op writes its result straight into it, and returns it: no copy out.
 */
export function residentF32(e: Engine, count: number): Float32Array | null {
  const offset = residentOffset(e, count);
  return offset < 0 ? null : new Float32Array(e.memory.buffer, offset, count);
}

/** Like {@link residentF32}, for int32 values (max-pool argmax). */
export function residentI32(e: Engine, count: number): Int32Array | null {
  const offset = residentOffset(e, count);
  return offset < 0 ? null : new Int32Array(e.memory.buffer, offset, count);
}

function residentOffset(e: Engine, count: number): number {
  if (!cpuConfig().residentOutputs) return -1;
  const offset = residentRegion(count);
  if (offset >= 0) e.buffers.add(e.memory.buffer);
  return offset;
}

/** Arrays smaller than this many floats stay where they are: their copies into the engine cost little. */
const HOLD_MIN = 1 << 16;
// Arrays that holdResident moved into regions of their own (arena outputs are resident too, but
// reused by the arena's next step: never a place to keep a weight).
const held = new WeakSet<Float32Array>();
// A held region goes back when its array is collected (its weight replaced, or its model dropped).
const heldRegistry = new FinalizationRegistry<{ engine: Engine; bytes: number; offset: number }>((r) => r.engine.regions.release(r.bytes, r.offset));

/**
 * `a` itself when it is small, already held, there is no engine or no room, resident outputs are
 * off (`setBackend('cpu', { residentOutputs: false })`), or an arena is active; else a copy of `a`
 * in a region of the engine's memory of its own, which lives as long as the returned array. For a
 * model's large weights and their gradients (the cpu backend's `hold`, which a model calls on
 * them before a training step): SGD then updates them in place and the ops read them where they
 * are, with no copy into the memory and back each step. Inside an arena (a step running) what is
 * held is a step's batch or a weight seen first by predict: nothing to keep a region for.
 *
 * @example
 * param.grad = holdResident(param.grad); // the same array on every later call
 */
export function holdResident(a: Float32Array): Float32Array {
  if (a.length < HOLD_MIN || held.has(a) || inArena() || !cpuConfig().residentOutputs) return a;
  const e = getEngine();
  if (e === null) return a;
  const bytes = a.length * 4;
  const offset = e.regions.alloc(bytes);
  if (offset < 0) return a;
  const copy = new Float32Array(e.memory.buffer, offset, a.length);
  e.buffers.add(e.memory.buffer);
  copy.set(a);
  held.add(copy);
  heldRegistry.register(copy, { engine: e, bytes, offset });
  return copy;
}

/** Bytes between the first region and the ops' scratch (regions held or free); for tests. */
export function residentBytes(): number {
  const e = getEngine();
  return e ? e.workBase - e.regionBase : 0;
}

/**
 * A resident copy of `a` held by the active arena (as if an op had produced it), or `a` itself
 * where it cannot be (no engine, outside an arena, small, no room). For a training step's batch
 * (the cpu backend's `hold(a, true)`), and benchmarks and tests that feed an op the way a model
 * step does.
 */
export function residentCopy<T extends Float32Array | Int32Array>(a: T): T {
  const e = getEngine();
  if (e === null) return a;
  const r = a instanceof Float32Array ? residentF32(e, a.length) : residentI32(e, a.length);
  if (r === null) return a;
  r.set(a);
  return r as T;
}

/** Byte offset of `a` in the engine's memory when it is a resident output, else -1. */
export function residentAt(e: Engine, a: Float32Array | Int32Array): number {
  if (!e.buffers.has(a.buffer)) return -1;
  const offset = a.byteOffset;
  return offset >= e.regionBase && offset + a.byteLength <= e.workBase ? offset : -1;
}

/** Elements of scratch `a` needs: 0 when it is resident (read where it is). */
export function scratchFor(e: Engine, a: Float32Array | Int32Array): number {
  return residentAt(e, a) >= 0 ? 0 : a.length;
}

/**
 * Where the kernels read `a` from: its own offset when it is resident, else a copy at `offset`.
 * Kernels never write into a staged input.
 */
export function stage(e: Engine, a: Float32Array | Int32Array, offset: number): number {
  const at = residentAt(e, a);
  if (at >= 0) return at;
  if (a instanceof Float32Array) e.f32.set(a, offset >> 2);
  else new Int32Array(e.memory.buffer, offset, a.length).set(a);
  return offset;
}

/** `resident` when the op wrote its result there, else a copy of the result at `offset`. */
export function result(e: Engine, resident: Float32Array | null, offset: number, count: number): Float32Array {
  return resident ?? copyOut(e, offset, count);
}

/** Like {@link result}, for int32 values. */
export function resultInt32(e: Engine, resident: Int32Array | null, offset: number, count: number): Int32Array {
  return resident ?? copyOutInt32(e, offset, count);
}

// Fresh storage from Buffer.allocUnsafeSlow under Node (not zero-filled, then fully overwritten): on
// large results that measured faster than new Float32Array + set, or slice.
function fresh<T extends Float32Array | Int32Array>(make: new (b: ArrayBufferLike, at: number, n: number) => T, count: number): T {
  const b = platform.freshBytes(count * 4);
  return new make(b.buffer, b.byteOffset, count);
}

/**
 * A Float32Array holding `count` floats of wasm memory from byte `offset`: inside a model step a
 * buffer of the step's arena (src/backend/arena.ts, already paged in), else fresh storage.
 */
export function copyOut(e: Engine, offset: number, count: number): Float32Array {
  const out = inArena() ? outputF32(count) : fresh(Float32Array, count);
  out.set(e.f32.subarray(offset >> 2, (offset >> 2) + count));
  return out;
}

/** Like {@link copyOut}, for int32 values. */
export function copyOutInt32(e: Engine, offset: number, count: number): Int32Array {
  const out = inArena() ? outputI32(count) : fresh(Int32Array, count);
  out.set(new Int32Array(e.memory.buffer, offset, count));
  return out;
}
