import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { inArena, outputF32, outputI32, residentRegion, setRegionAllocator } from '../arena.js';
import { gemmReference, type Gemm } from '../gemm.js';
import { gemmWasmBase64, gemmWasmRelaxedBase64 } from './gemm-wasm.generated.js';

/** The exports of asm/gemm.ts; pointers are byte offsets into the shared memory. */
interface GemmExports {
  gemm(
    m: number, n: number, k: number,
    a: number, lda: number, transA: number,
    b: number, ldb: number, transB: number,
    c: number, ldc: number, accumulate: number,
    work: number,
  ): void;
  addInto(dst: number, src: number, count: number): void;
  convForward(g: number, start: number, end: number, work: number): void;
  convForwardDirect(g: number, start: number, end: number): void;
  convForwardWinograd(g: number, t0: number, t1: number, work: number, tb: number): void;
  winogradFilterTransform(w: number, C: number, F: number, rot: number, u: number, scratch: number): void;
  winogradFilterGradTransform(m: number, C: number, F: number, scratch: number): void;
  winogradWorkBytes(tb: number, C: number, F: number): number;
  winograd4WorkBytes(tb: number, C: number, F: number): number;
  convForwardWinograd4(g: number, t0: number, t1: number, work: number, tb: number): void;
  convBackpropFilterWinograd(g: number, t0: number, t1: number, work: number, tb: number, part: number): void;
  convForwardDirectPool(g: number, q0: number, q1: number, scratch: number, out: number, pkh: number, pkw: number, POH: number, POW: number): void;
  convBackpropFilterDirect(g: number, q0: number, q1: number, part: number): void;
  convBackpropInputDirect(g: number, p0: number, p1: number): void;
  convBackpropInput(g: number, start: number, end: number, work: number): void;
  convBackpropFilter(g: number, start: number, end: number, work: number, part: number): void;
  scatterPooledGrad(dz: number, dy: number, y: number, am: number, e0: number, e1: number, z0: number, z1: number, F: number, relu: number, db: number): void;
  channelSum(x: number, C: number, r0: number, r1: number, acc: number): void;
  channelSquaredDeviation(x: number, mean: number, C: number, r0: number, r1: number, acc: number): void;
  batchNormApply(x: number, mean: number, invStd: number, gamma: number, beta: number, C: number, r0: number, r1: number, xHat: number, y: number): void;
  scaleShift(x: number, scale: number, shift: number, C: number, r0: number, r1: number, y: number): void;
  batchNormBackwardSums(dy: number, xHat: number, C: number, r0: number, r1: number, acc: number): void;
  batchNormBackwardApply(dy: number, xHat: number, k: number, meanDy: number, meanDyX: number, C: number, r0: number, r1: number, dx: number): void;
  reluForward(x: number, i0: number, i1: number, y: number): void;
  reluBackward(dy: number, x: number, i0: number, i1: number, dx: number): void;
  activationForward(kind: number, x: number, i0: number, i1: number, y: number): void;
  activationBackward(kind: number, dy: number, y: number, i0: number, i1: number, dx: number): void;
  maxPool(g: number, q0: number, q1: number): void;
  bnActMaxPool(g: number, q0: number, q1: number, mean: number, invStd: number, gamma: number, beta: number, relu: number): void;
  bnActPoolBackwardSums(g: number, q0: number, q1: number, dy: number, mean: number, invStd: number, gamma: number, beta: number, relu: number, acc: number): void;
  bnBackwardApplyZero(x: number, mean: number, invStd: number, k: number, meanDz: number, meanDzX: number, C: number, r0: number, r1: number, dx: number): void;
  bnActPoolBackwardScatter(
    g: number, q0: number, q1: number, dy: number, mean: number, invStd: number, gamma: number, beta: number, relu: number,
    k: number, meanDz: number, meanDzX: number, dx: number,
  ): void;
  workspaceBytes(): number;
  heapBase(): number;
}

// The slice of the WebAssembly JS API used here (tsconfig's lib has no DOM/WebAssembly types).
interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** Which path {@link gemmFast} runs. */
export interface GemmInfo {
  /** True when the WebAssembly SIMD kernel runs; false when gemmFast is gemmReference. */
  simd: boolean;
  /** Threads a large product is split over, the calling thread included (1: no workers). */
  threads: number;
  /** Bytes of WebAssembly memory currently held (grows to the largest product seen, never shrinks). */
  memoryBytes: number;
  /**
   * True when the module built with relaxed SIMD runs: fused multiply-adds in the GEMM and
   * convolution tiles (≈ 1.5× the GFLOP/s here). Chosen at start-up: on wherever WebAssembly accepts
   * relaxed SIMD (Node 20 after switching on its V8 flag); TSCNN_WASM_RELAXED=0 turns it off.
   */
  relaxedSimd: boolean;
}

const PAGE = 65536;
// Matches asm/asconfig.json maximumMemory: 2 GiB keeps every byte offset a positive int32.
const MAX_PAGES = 32768;
const MAX_BYTES = MAX_PAGES * PAGE;
const MAX_THREADS = 64;
// Int32 words per worker control block (128 bytes, so two blocks never share a cache line).
const CTL_WORDS = 32;
const SEQ = 0;
const DONE = 1;
const ARGS = 2;
const FAILED = 15;
// Bumped when a worker is stopped: a stopped worker that wakes late never runs its successor's job.
const EPOCH = 16;
// Which export a job runs: an index into JOB_EXPORTS.
const KIND = 17;
/** The wasm exports a worker job can run, by kind; each takes up to 13 i32 arguments. */
const JOB_EXPORTS = [
  'gemm', 'convForward', 'convBackpropInput', 'convBackpropFilter',
  'channelSum', 'channelSquaredDeviation', 'batchNormApply', 'scaleShift', 'batchNormBackwardSums', 'batchNormBackwardApply',
  'reluForward', 'reluBackward', 'maxPool', 'convForwardDirect', 'convBackpropFilterDirect', 'convBackpropInputDirect',
  'bnActMaxPool', 'bnActPoolBackwardSums', 'bnBackwardApplyZero', 'bnActPoolBackwardScatter', 'convForwardDirectPool',
  'activationForward', 'activationBackward', 'convForwardWinograd', 'convBackpropFilterWinograd',
  'convForwardWinograd4', 'scatterPooledGrad',
] as const;
/** Job kinds of {@link runJobs}. */
export const JOB_GEMM = 0;
export const JOB_CONV_FORWARD = 1;
export const JOB_CONV_BACKPROP_INPUT = 2;
export const JOB_CONV_BACKPROP_FILTER = 3;
export const JOB_CHANNEL_SUM = 4;
export const JOB_CHANNEL_SQUARED_DEVIATION = 5;
export const JOB_BN_APPLY = 6;
export const JOB_SCALE_SHIFT = 7;
export const JOB_BN_BACKWARD_SUMS = 8;
export const JOB_BN_BACKWARD_APPLY = 9;
export const JOB_RELU_FORWARD = 10;
export const JOB_RELU_BACKWARD = 11;
export const JOB_MAX_POOL = 12;
export const JOB_CONV_FORWARD_DIRECT = 13;
export const JOB_CONV_BACKPROP_FILTER_DIRECT = 14;
export const JOB_CONV_BACKPROP_INPUT_DIRECT = 15;
export const JOB_BN_ACT_MAX_POOL = 16;
export const JOB_BN_ACT_POOL_SUMS = 17;
export const JOB_BN_APPLY_ZERO = 18;
export const JOB_BN_ACT_POOL_SCATTER = 19;
export const JOB_CONV_FORWARD_DIRECT_POOL = 20;
export const JOB_ACTIVATION_FORWARD = 21;
export const JOB_ACTIVATION_BACKWARD = 22;
export const JOB_CONV_FORWARD_WINOGRAD = 23;
export const JOB_CONV_BACKPROP_FILTER_WINOGRAD = 24;
export const JOB_CONV_FORWARD_WINOGRAD4 = 25;
export const JOB_SCATTER_POOLED_GRAD = 26;
const MR = 4;
const NR = 8;
/** Below this many multiply-adds, waking workers costs more than it saves. */
export const THREAD_MIN_MACS = 1 << 20;

// Runs in each worker: the same module over the same memory, one job per SEQ bump.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctl, epoch } = workerData;
let seen = workerData.seen;
const w = new Int32Array(memory.buffer, ctl, ${CTL_WORDS});
let fns = null;
try {
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  fns = ${JSON.stringify(JOB_EXPORTS)}.map((name) => ex[name]);
} catch {}
for (;;) {
  Atomics.wait(w, ${SEQ}, seen);
  if (Atomics.load(w, ${EPOCH}) !== epoch) break;
  const seq = Atomics.load(w, ${SEQ});
  if (seq === seen) continue;
  seen = seq;
  let failed = 1;
  try {
    if (fns) {
      fns[w[${KIND}]](w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9], w[10], w[11], w[12], w[13], w[14]);
      failed = 0;
    }
  } catch {}
  w[${FAILED}] = failed;
  Atomics.store(w, ${DONE}, seq);
  Atomics.notify(w, ${DONE});
}
`;

/** The shared WebAssembly instance and memory behind gemmFast and the fast convolutions. */
export interface Engine {
  module: object;
  relaxedSimd: boolean;
  memory: WasmMemory;
  wasm: GemmExports;
  ctlBase: number;
  /** Where resident regions (src/backend/arena.ts) start; they end at workBase. */
  regionBase: number;
  /** Start of every op's scratch: above the resident regions, it moves up as they are added. */
  workBase: number;
  workBytes: number;
  f32: Float32Array;
  ctl: Int32Array;
}

let engine: Engine | null | undefined;
let workers: Worker[] = [];
let seq = 0;
let threadCount: number | undefined;

/** x rounded up to a multiple of `to`. */
export function align(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

/**
 * Which build of the module to run. The relaxed-SIMD build (f32x4.relaxed_madd: one fused
 * multiply-add per lane where the CPU has FMA, a multiply and an add where not; results may
 * differ from the plain build in the last bits) runs wherever WebAssembly.validate accepts it:
 * Node ≥ 22 by default. Node 20's V8 has the feature behind --experimental-wasm-relaxed-simd;
 * there the flag is switched on once through v8.setFlagsFromString (it only widens what
 * WebAssembly validation accepts), checked by validating again. TSCNN_WASM_RELAXED=0 keeps the
 * plain SIMD build (bit-identical results across x64 CPUs with and without FMA).
 */
function relaxedSimdChoice(api: WasmApi, env: string | undefined): boolean {
  if (env === '0') return false;
  const bytes = Buffer.from(gemmWasmRelaxedBase64, 'base64');
  if (api.validate(bytes)) return true;
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return api.validate(bytes);
}

function createEngine(): Engine | null {
  const env = process.env.TSCNN_WASM_RELAXED;
  if (env !== undefined && env !== '' && env !== '0' && env !== '1') {
    throw new Error(`gemmFast: TSCNN_WASM_RELAXED must be 0 or 1, got ${JSON.stringify(env)}`);
  }
  try {
    const api = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const relaxedSimd = relaxedSimdChoice(api, env);
    const module = new api.Module(Buffer.from(relaxedSimd ? gemmWasmRelaxedBase64 : gemmWasmBase64, 'base64'));
    const memory = new api.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    const wasm = new api.Instance(module, { env: { memory } }).exports as GemmExports;
    const ctlBase = align(wasm.heapBase(), 128);
    const workBase = align(ctlBase + MAX_THREADS * CTL_WORDS * 4, 64);
    const workBytes = align(wasm.workspaceBytes(), 64);
    return {
      module, relaxedSimd, memory, wasm, ctlBase, regionBase: workBase, workBase, workBytes,
      f32: new Float32Array(memory.buffer),
      ctl: new Int32Array(memory.buffer, ctlBase, MAX_THREADS * CTL_WORDS),
    };
  } catch {
    // No SIMD, no shared memory (e.g. SharedArrayBuffer disabled): gemmFast is gemmReference.
    return null;
  }
}

/** The engine, created on first use; null where WebAssembly SIMD or shared memory is missing. */
export function getEngine(): Engine | null {
  if (engine === undefined) {
    engine = createEngine();
    if (engine) installRegions(engine);
  }
  return engine;
}

/**
 * Most bytes resident regions may take; the rest of the 2 GiB stays for the ops' scratch. Beyond
 * it (very large images or batches) outputs are copied out of the memory as they used to be.
 */
const RESIDENT_MAX_BYTES = 1 << 30;

let residentOn = true;

/**
 * Whether ops inside a model step write large outputs into resident regions (default) or copy
 * them out as before; for tests and before/after measurements.
 */
export function setResidentOutputs(on: boolean): void {
  residentOn = on;
}

// SharedArrayBuffers of the engine's memory that resident views were made on (one per size the
// memory had: growing shared memory gives a new buffer object, the old ones stay valid).
const wasmBuffers = new WeakSet<object>();

// Regions of the engine's memory between regionBase and workBase, for the arenas' resident
// outputs: first fit among released regions (split, the rest stays free), else cut at workBase
// (the ops' scratch moves up above it). Released neighbours merge, and free space at the top
// goes back to scratch, so shapes that come and go (a last partial batch, predict at several
// batch sizes) reuse memory rather than pile it up.
function installRegions(e: Engine): void {
  /** Released regions, by offset, none adjacent (merged on release). */
  const free: { offset: number; bytes: number }[] = [];
  /** Bytes of each region handed out, by offset. */
  const taken = new Map<number, number>();
  setRegionAllocator({
    alloc(size) {
      const bytes = align(size, 64);
      let best = -1;
      for (let i = 0; i < free.length; i++) {
        if (free[i].bytes >= bytes && (best < 0 || free[i].bytes < free[best].bytes)) best = i;
      }
      let offset: number;
      if (best >= 0) {
        const f = free[best];
        offset = f.offset;
        if (f.bytes === bytes) free.splice(best, 1);
        else {
          f.offset += bytes;
          f.bytes -= bytes;
        }
      } else {
        offset = e.workBase;
        const end = offset + bytes;
        if (end - e.regionBase > RESIDENT_MAX_BYTES || !reserve(e, end)) return -1;
        e.workBase = end;
      }
      taken.set(offset, bytes);
      return offset;
    },
    release(_size, offset) {
      const bytes = taken.get(offset);
      if (bytes === undefined) return;
      taken.delete(offset);
      let i = 0;
      while (i < free.length && free[i].offset < offset) i++;
      free.splice(i, 0, { offset, bytes });
      if (i + 1 < free.length && offset + bytes === free[i + 1].offset) {
        free[i].bytes += free[i + 1].bytes;
        free.splice(i + 1, 1);
      }
      if (i > 0 && free[i - 1].offset + free[i - 1].bytes === offset) {
        free[i - 1].bytes += free[i].bytes;
        free.splice(i, 1);
      }
      const top = free[free.length - 1];
      if (top && top.offset + top.bytes === e.workBase) {
        e.workBase = top.offset;
        free.pop();
      }
    },
  });
}

/** Bytes between the first region and the ops' scratch (regions held or free); for tests. */
export function residentBytes(): number {
  return engine ? engine.workBase - engine.regionBase : 0;
}

/**
 * A resident output of `count` floats: a view of a region of the engine's memory that the active
 * arena holds until its next step (see src/backend/arena.ts), or null (outside a model step,
 * small, or no room). Call it before placing the op's scratch: a new region moves workBase.
 * An op writes its result straight into it, and returns it: no copy out.
 */
export function residentF32(e: Engine, count: number): Float32Array | null {
  if (!residentOn) return null;
  const offset = residentRegion(count);
  if (offset < 0) return null;
  const buffer = e.memory.buffer;
  wasmBuffers.add(buffer);
  return new Float32Array(buffer, offset, count);
}

/** Like {@link residentF32}, for int32 values (max-pool argmax). */
export function residentI32(e: Engine, count: number): Int32Array | null {
  if (!residentOn) return null;
  const offset = residentRegion(count);
  if (offset < 0) return null;
  const buffer = e.memory.buffer;
  wasmBuffers.add(buffer);
  return new Int32Array(buffer, offset, count);
}

/**
 * A resident copy of `a` held by the active arena (as if an op had produced it), or `a` itself
 * where it cannot be (no engine, outside an arena, small, no room). For benchmarks and tests
 * that feed an op the way a model step does.
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
  if (!wasmBuffers.has(a.buffer)) return -1;
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

function defaultThreads(): number {
  const env = process.env.TSCNN_THREADS;
  let cap = 2;
  if (env !== undefined && env !== '') {
    cap = Number(env);
    if (!Number.isInteger(cap) || cap < 1) {
      throw new Error(`gemmFast: TSCNN_THREADS must be a positive integer, got ${JSON.stringify(env)}`);
    }
  }
  return Math.min(availableParallelism(), cap, MAX_THREADS);
}

/** Threads (the calling one included) large jobs are split over. */
export function threads(): number {
  if (threadCount === undefined) threadCount = defaultThreads();
  return threadCount;
}

/**
 * Sets how many threads (the calling one included) gemmFast splits large products over,
 * exactly, ignoring TSCNN_THREADS and the core count; running workers are stopped first.
 * @param count integer in [1, 64]
 * @example
 * setGemmThreads(1); // single-threaded from now on
 */
export function setGemmThreads(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_THREADS) {
    throw new Error(`setGemmThreads: count must be an integer in [1, ${MAX_THREADS}], got ${count}`);
  }
  shutdownGemmThreads();
  threadCount = count;
}

/**
 * Stops gemmFast's worker threads. They are unref()ed and never keep the process alive, so
 * calling this is optional; the next large gemmFast call starts them again.
 * @example
 * shutdownGemmThreads();
 */
export function shutdownGemmThreads(): void {
  const e = engine;
  for (let t = 0; t < workers.length; t++) {
    if (e) {
      const base = (t + 1) * CTL_WORDS;
      Atomics.add(e.ctl, base + EPOCH, 1);
      Atomics.notify(e.ctl, base + SEQ);
    }
    void workers[t].terminate();
  }
  workers = [];
}

function ensureWorkers(e: Engine, count: number): void {
  while (workers.length < count) {
    const t = workers.length + 1;
    const base = t * CTL_WORDS;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        module: e.module,
        memory: e.memory,
        ctl: e.ctlBase + base * 4,
        epoch: Atomics.load(e.ctl, base + EPOCH),
        seen: Atomics.load(e.ctl, base + SEQ),
      },
    });
    worker.unref();
    workers.push(worker);
  }
}

/** Which path gemmFast runs: SIMD WebAssembly or the TypeScript reference, and on how many threads. */
export function gemmInfo(): GemmInfo {
  const e = getEngine();
  return { simd: e !== null, threads: e ? threads() : 1, memoryBytes: e ? e.memory.buffer.byteLength : 0, relaxedSimd: e?.relaxedSimd ?? false };
}

/**
 * A Float32Array holding `count` floats of wasm memory from byte `offset`: inside a model step a
 * buffer of the step's arena (src/backend/arena.ts, already paged in), else fresh storage from
 * Buffer.allocUnsafeSlow (not zero-filled, then fully overwritten): on 20 MB results that
 * measured ~1.8 ms against ~3–9 ms for new Float32Array + set and ~2.7 ms for slice.
 */
export function copyOut(e: Engine, offset: number, count: number): Float32Array {
  let out: Float32Array;
  if (inArena()) out = outputF32(count);
  else {
    const b = Buffer.allocUnsafeSlow(count * 4);
    out = new Float32Array(b.buffer, b.byteOffset, count);
  }
  out.set(e.f32.subarray(offset >> 2, (offset >> 2) + count));
  return out;
}

/** Like {@link copyOut}, for int32 values. */
export function copyOutInt32(e: Engine, offset: number, count: number): Int32Array {
  let out: Int32Array;
  if (inArena()) out = outputI32(count);
  else {
    const b = Buffer.allocUnsafeSlow(count * 4);
    out = new Int32Array(b.buffer, b.byteOffset, count);
  }
  out.set(new Int32Array(e.memory.buffer, offset, count));
  return out;
}

/** Grows the wasm memory so that bytes [0, end) exist; false when end is beyond 2 GiB. */
export function reserve(e: Engine, end: number): boolean {
  if (end > MAX_BYTES) return false;
  const have = e.memory.buffer.byteLength;
  if (end > have) {
    e.memory.grow(Math.ceil((end - have) / PAGE));
    e.f32 = new Float32Array(e.memory.buffer);
  }
  return true;
}

/**
 * C[m×n] = op(A)·op(B), or += when accumulate (see {@link Gemm}), with a WebAssembly SIMD
 * kernel (packed panels, 4×8 register tile) split over worker threads that share its memory.
 * Synchronous: the calling thread takes a share and blocks on Atomics.wait for the rest.
 * Falls back to gemmReference where WebAssembly SIMD or shared memory is missing ({@link gemmInfo}).
 * @example
 * const c = new Float32Array(2 * 2);
 * gemmFast(false, false, 2, 2, 3, new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([1, 0, 0, 1, 1, 1]), c, false);
 * // c = [4, 5, 10, 11]
 */
export const gemmFast: Gemm = (transA, transB, m, n, k, a, b, c, accumulate) => {
  const e = getEngine();
  if (e === null) {
    gemmReference(transA, transB, m, n, k, a, b, c, accumulate);
    return;
  }
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) c.fill(0, 0, m * n);
    return;
  }
  run(e, transA, transB, m, n, k, a, b, c, accumulate);
};

function run(
  e: Engine, transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean,
): void {
  const macs = m * n * k;
  let t = macs < THREAD_MIN_MACS ? 1 : threads();
  // Split the dimension whose split repacks the least: m (each thread packs all of B),
  // n (each packs all of A), or k (partial sums reduced at the end) when m and n are both small.
  let split: 'm' | 'n' | 'k' = 'm';
  if (t > 1) {
    if (m >= n && m >= t * 4 * MR) split = 'm';
    else if (n >= t * 2 * NR) split = 'n';
    else if (m >= t * 4 * MR) split = 'm';
    else if (k >= t * 256) split = 'k';
    else t = 1;
  }
  const sizeA = m * k;
  const sizeB = k * n;
  const sizeC = m * n;
  const work = e.workBase;
  const offA = align(work + t * e.workBytes, 64);
  const offB = align(offA + sizeA * 4, 64);
  const offC = align(offB + sizeB * 4, 64);
  const offP = align(offC + sizeC * 4, 64);
  const end = offP + (split === 'k' ? (t - 1) * align(sizeC * 4, 64) : 0);
  if (end > MAX_BYTES) {
    splitRows(e, transA, transB, m, n, k, a, b, c, accumulate);
    return;
  }
  reserve(e, end);
  const f32 = e.f32;
  f32.set(a.subarray(0, sizeA), offA >> 2);
  f32.set(b.subarray(0, sizeB), offB >> 2);
  if (accumulate) f32.set(c.subarray(0, sizeC), offC >> 2);
  const tA = transA ? 1 : 0;
  const tB = transB ? 1 : 0;
  const acc = accumulate ? 1 : 0;

  const jobs: number[][] = [];
  if (t === 1) {
    jobs.push([m, n, k, offA, transA ? m : k, tA, offB, transB ? k : n, tB, offC, n, acc]);
  } else if (split === 'm') {
    const chunk = align(Math.ceil(m / t), MR);
    for (let i0 = 0; i0 < m; i0 += chunk) {
      const rows = Math.min(chunk, m - i0);
      const aSub = offA + (transA ? i0 : i0 * k) * 4;
      jobs.push([rows, n, k, aSub, transA ? m : k, tA, offB, transB ? k : n, tB, offC + i0 * n * 4, n, acc]);
    }
  } else if (split === 'n') {
    const chunk = align(Math.ceil(n / t), NR);
    for (let j0 = 0; j0 < n; j0 += chunk) {
      const cols = Math.min(chunk, n - j0);
      const bSub = offB + (transB ? j0 * k : j0) * 4;
      jobs.push([m, cols, k, offA, transA ? m : k, tA, bSub, transB ? k : n, tB, offC + j0 * 4, n, acc]);
    }
  } else {
    const chunk = Math.ceil(k / t);
    for (let p0 = 0; p0 < k; p0 += chunk) {
      const depth = Math.min(chunk, k - p0);
      const aSub = offA + (transA ? p0 * m : p0) * 4;
      const bSub = offB + (transB ? p0 : p0 * n) * 4;
      const first = p0 === 0;
      const cOut = first ? offC : offP + (jobs.length - 1) * align(sizeC * 4, 64);
      jobs.push([m, n, depth, aSub, transA ? m : k, tA, bSub, transB ? k : n, tB, cOut, n, first ? acc : 0]);
    }
  }
  for (let j = 0; j < jobs.length; j++) jobs[j].push(e.workBase + j * e.workBytes);
  runJobs(e, JOB_GEMM, jobs);
  if (split === 'k' && jobs.length > 1) {
    for (let j = 1; j < jobs.length; j++) e.wasm.addInto(offC, jobs[j][9], sizeC);
  }
  c.set(f32.subarray(offC >> 2, (offC >> 2) + sizeC));
}

/**
 * Runs jobs[0] of export `kind` on this thread and jobs 1.. on workers 1.., each job its
 * argument list (at most 13 i32), and returns when all are done.
 */
export function runJobs(e: Engine, kind: number, jobs: number[][]): void {
  const others = jobs.length - 1;
  if (others > 0) {
    ensureWorkers(e, others);
    seq = seq >= 0x3fffffff ? 1 : seq + 1;
    for (let t = 1; t <= others; t++) {
      const base = t * CTL_WORDS;
      const job = jobs[t];
      for (let i = 0; i < job.length; i++) e.ctl[base + ARGS + i] = job[i];
      e.ctl[base + KIND] = kind;
      Atomics.store(e.ctl, base + SEQ, seq);
      Atomics.notify(e.ctl, base + SEQ);
    }
  }
  const j0 = jobs[0];
  const f = e.wasm[JOB_EXPORTS[kind]] as (...args: number[]) => void;
  f(j0[0], j0[1], j0[2], j0[3], j0[4], j0[5], j0[6], j0[7], j0[8], j0[9], j0[10], j0[11], j0[12]);
  let failed = 0;
  for (let t = 1; t <= others; t++) {
    const base = t * CTL_WORDS;
    let done: number;
    while ((done = Atomics.load(e.ctl, base + DONE)) !== seq) Atomics.wait(e.ctl, base + DONE, done);
    failed += e.ctl[base + FAILED];
  }
  if (failed > 0) throw new Error(`gemmFast: ${failed} of ${others} worker threads failed to run the WebAssembly kernel`);
}

// A product too large for 2 GiB of wasm memory: two halves of the rows, each a separate call.
function splitRows(
  e: Engine, transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean,
): void {
  if (m < 2) {
    gemmReference(transA, transB, m, n, k, a, b, c, accumulate);
    return;
  }
  const h = m >> 1;
  for (const [i0, rows] of [[0, h], [h, m - h]]) {
    let aSub: Float32Array;
    if (transA) {
      aSub = new Float32Array(k * rows);
      for (let p = 0; p < k; p++) aSub.set(a.subarray(p * m + i0, p * m + i0 + rows), p * rows);
    } else {
      aSub = a.subarray(i0 * k, (i0 + rows) * k);
    }
    run(e, transA, transB, rows, n, k, aSub, b, c.subarray(i0 * n, (i0 + rows) * n), accumulate);
  }
}
