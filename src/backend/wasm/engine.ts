// The WebAssembly engine behind the `cpu` backend: one module (asm/, compiled by asm/build.mjs)
// over one shared memory, instantiated on this thread and on worker threads (worker-loop.ts; Node's
// worker_threads or a browser's Web Workers, platform.ts / platform.browser.ts) that run jobs handed
// to them through control blocks in that memory.
// The ops (gemm.ts, conv-fast.ts, elementwise-fast.ts) lay out their operands in the memory and
// call runJobs with one typed argument list per thread.
import { setRegionAllocator, type RegionAllocator } from '../arena.js';
import { cpuConfig, MAX_THREADS, onCpuConfigChange, type CpuBackendConfig } from '../config.js';
import { ARGS, CLAIM, CTL_WORDS, DONE, EPOCH, FAILED, KIND, READY, SEQ, spinWhile, takeBack, type WorkerFailure } from './control.js';
import { JOB_NAMES, type EngineExports, type JobArgs, type JobName } from './engine-exports.generated.js';
import { engineWasmBase64, engineWasmRelaxedBase64 } from './engine-wasm.generated.js';
import { platform } from './platform.js';
import type { EngineWorker } from './platform-types.js';
import { regionAllocator } from './regions.js';

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

/** What the engine runs on; see {@link engineInfo}. */
export interface EngineInfo {
  /** True when the WebAssembly SIMD module runs; false where it cannot (the ops fall back to TypeScript loops). */
  simd: boolean;
  /** Most threads a large op is split over, the calling thread included (1: no workers). */
  threads: number;
  /** Bytes of WebAssembly memory currently held (grows to the largest op seen, never shrinks). */
  memoryBytes: number;
  /** True when the relaxed-SIMD build (fused multiply-adds) runs; see `setBackend('cpu', { relaxedSimd })`. */
  relaxedSimd: boolean;
}

const PAGE = 65536;
// Matches asm/asconfig.json maximumMemory: 2 GiB keeps every byte offset a positive int32.
const MAX_PAGES = 32768;
/** Bytes the engine's memory can grow to. */
export const MAX_BYTES = MAX_PAGES * PAGE;
/** Below this many multiply-adds, waking workers costs more than it saves. */
export const THREAD_MIN_MACS = 1 << 20;
// A worker that has not started by then never will (its entry failed to load).
const START_TIMEOUT_MS = 60_000;

/** The shared WebAssembly instance and memory behind the fast ops. */
export interface Engine {
  module: object;
  relaxedSimd: boolean;
  memory: WasmMemory;
  wasm: EngineExports;
  ctlBase: number;
  /** Where resident regions (src/backend/arena.ts) start; they end at workBase. */
  regionBase: number;
  /** Start of every op's scratch: above the resident regions, it moves up as they are added. */
  workBase: number;
  /** Bytes of the GEMM packing workspace each thread needs. */
  workBytes: number;
  f32: Float32Array;
  ctl: Int32Array;
  /** SharedArrayBuffers of this memory that resident views were made on (one per size it had). */
  buffers: WeakSet<object>;
  /** Hands out the regions between regionBase and workBase (arenas' outputs, packed weights). */
  regions: RegionAllocator;
}

let engine: Engine | null | undefined;
let workers: EngineWorker[] = [];
let seq = 0;

/** x rounded up to a multiple of `to`. */
export function align(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

/**
 * Whether the relaxed-SIMD build runs (f32x4.relaxed_madd: one fused multiply-add per lane where
 * the CPU has FMA; results may differ from the plain build in the last bits). Node ≥ 22 accepts
 * it as is; Node 20 only behind V8's --experimental-wasm-relaxed-simd, which only `'force'` sets
 * (process-wide: it only widens what WebAssembly validation accepts).
 */
function relaxedChoice(api: WasmApi, setting: CpuBackendConfig['relaxedSimd']): boolean {
  if (setting === 'off') return false;
  const bytes = platform.decodeBase64(engineWasmRelaxedBase64);
  if (api.validate(bytes)) return true;
  if (setting === 'auto') return false;
  if (!platform.enableRelaxedSimd() || !api.validate(bytes)) {
    throw new Error(`setBackend('cpu'): relaxedSimd 'force': ${platform.runtime} rejects the relaxed-SIMD module even with --experimental-wasm-relaxed-simd`);
  }
  return true;
}

function wasmApi(): WasmApi | null {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly ?? null;
}

function createEngine(config: CpuBackendConfig): Engine | null {
  const api = wasmApi();
  // No WebAssembly SIMD or no shared memory: the ops run their TypeScript loops.
  if (api === null || !api.validate(platform.decodeBase64(engineWasmBase64))) return null;
  let memory: WasmMemory;
  try {
    // Chromium makes shared memories on pages that are not cross-origin isolated too (they just
    // cannot be posted to workers); where a browser refuses, the TypeScript loops run.
    memory = new api.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  } catch {
    return null;
  }
  const relaxedSimd = relaxedChoice(api, config.relaxedSimd);
  const module = new api.Module(platform.decodeBase64(relaxedSimd ? engineWasmRelaxedBase64 : engineWasmBase64));
  const wasm = new api.Instance(module, { env: { memory } }).exports as EngineExports;
  const ctlBase = align(wasm.heapBase(), 128);
  const workBase = align(ctlBase + MAX_THREADS * CTL_WORDS * 4, 64);
  const workBytes = align(wasm.workspaceBytes(), 64);
  const e: Engine = {
    module, relaxedSimd, memory, wasm, ctlBase, regionBase: workBase, workBase, workBytes,
    f32: new Float32Array(memory.buffer),
    ctl: new Int32Array(memory.buffer, ctlBase, MAX_THREADS * CTL_WORDS),
    buffers: new WeakSet(),
    regions: { alloc: () => -1, release: () => undefined },
  };
  e.regions = regionAllocator(e, (end) => reserve(e, end));
  return e;
}

/** The engine, created on first use; null where WebAssembly SIMD or shared memory is missing. */
export function getEngine(): Engine | null {
  if (engine === undefined) {
    const e = createEngine(cpuConfig());
    engine = e;
    if (e) setRegionAllocator(e.regions);
  }
  return engine;
}

// A new thread count stops the workers (the next op starts as many as it needs); a different
// build replaces the engine (its memory goes with the resident outputs that still point into it).
onCpuConfigChange((next, previous) => {
  if (previous === null) return;
  if (next.threads !== previous.threads) shutdownEngineThreads();
  if (next.relaxedSimd !== previous.relaxedSimd && engine) {
    const api = wasmApi();
    if (api && relaxedChoice(api, next.relaxedSimd) !== engine.relaxedSimd) {
      shutdownEngineThreads();
      engine = undefined;
    }
  }
});

/** Threads (the calling one included) large jobs are split over. */
export function threads(): number {
  return cpuConfig().threads;
}

/**
 * Stops the engine's worker threads. They are unref()ed and never keep the process alive, so
 * calling this is optional; the next large op starts them again.
 * @example
 * shutdownEngineThreads();
 */
export function shutdownEngineThreads(): void {
  const e = engine;
  for (let t = 0; t < workers.length; t++) {
    if (e) {
      const base = (t + 1) * CTL_WORDS;
      Atomics.add(e.ctl, base + EPOCH, 1);
      Atomics.notify(e.ctl, base + SEQ);
    }
    workers[t].stop();
  }
  workers = [];
}

/**
 * Wakes the started worker threads without a job: each polls its control word for SPIN_MS again
 * before it sleeps (worker-loop.ts), so that the next op's jobs find them running.
 */
export function wakeEngineThreads(): void {
  const e = engine;
  if (!e) return;
  for (let t = 1; t <= workers.length; t++) Atomics.notify(e.ctl, t * CTL_WORDS + SEQ);
}

function workerError(f: WorkerFailure, where: string): Error {
  const err = new Error(`wasm engine: job ${f.job} failed on ${where}: ${f.name}: ${f.message}`);
  err.stack = `${err.stack}\n  caused in the worker by: ${f.stack}`;
  return err;
}

function startWorkers(e: Engine, count: number): void {
  while (workers.length < count) {
    const t = workers.length + 1;
    const base = t * CTL_WORDS;
    Atomics.store(e.ctl, base + READY, 0);
    workers.push(platform.startWorker(t, {
      module: e.module,
      memory: e.memory,
      ctl: e.ctlBase + base * 4,
      epoch: Atomics.load(e.ctl, base + EPOCH),
      seen: Atomics.load(e.ctl, base + SEQ),
    }));
  }
}

function startFailure(e: Engine, t: number): Error {
  const msg = workers[t - 1].failure();
  shutdownEngineThreads();
  return msg ? workerError(msg, `worker thread ${t}`) : new Error(`wasm engine: worker thread ${t} could not instantiate the module`);
}

/**
 * Starts worker threads 1..count where missing. Where workers start while this thread blocks
 * (Node), waits for them and returns true; elsewhere (a browser page) returns whether all of them
 * are ready now, never waiting.
 */
function ensureWorkers(e: Engine, count: number): boolean {
  const start = workers.length;
  startWorkers(e, count);
  if (!platform.startsWhileBlocked) {
    for (let t = 1; t <= count; t++) {
      const ready = Atomics.load(e.ctl, t * CTL_WORDS + READY);
      if (ready < 0) throw startFailure(e, t);
      if (ready === 0) return false;
    }
    return true;
  }
  for (let t = start + 1; t <= count; t++) {
    const base = t * CTL_WORDS;
    if (Atomics.wait(e.ctl, base + READY, 0, START_TIMEOUT_MS) === 'timed-out') {
      shutdownEngineThreads();
      throw new Error(`wasm engine: worker thread ${t} did not start within ${START_TIMEOUT_MS / 1000} s`);
    }
    if (Atomics.load(e.ctl, base + READY) < 0) throw startFailure(e, t);
  }
  return true;
}

/**
 * Starts the `cpu` engine's worker threads now and resolves once they run (or rejects naming why
 * they cannot). Optional under Node, where the first large op starts them; in a browser, ops run
 * on the calling thread until the workers have started, which needs the page's event loop: await
 * this after `setBackend('cpu', …)` so that training uses every thread from its first step.
 * @example
 * setBackend('cpu');
 * const info = await startEngineThreads(); // { simd: true, threads: 8, … }
 */
export async function startEngineThreads(): Promise<EngineInfo> {
  const e = getEngine();
  const count = e ? threads() - 1 : 0;
  if (e && count > 0) {
    if (platform.startsWhileBlocked) ensureWorkers(e, count);
    else {
      startWorkers(e, count);
      for (let t = 1; t <= count; t++) {
        await platform.whenStarted?.(t);
        if (Atomics.load(e.ctl, t * CTL_WORDS + READY) !== 1) throw startFailure(e, t);
      }
    }
  }
  return engineInfo();
}

/** Which path the fast ops run: SIMD WebAssembly or TypeScript loops, and on how many threads. */
export function engineInfo(): EngineInfo {
  const e = getEngine();
  return { simd: e !== null, threads: e ? threads() : 1, memoryBytes: e ? e.memory.buffer.byteLength : 0, relaxedSimd: e?.relaxedSimd ?? false };
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
 * Runs export `kind` once per argument list: jobs[0] on this thread, jobs 1.. on worker threads
 * 1.., and returns when all are done. A job that throws, here or in a worker, throws here with
 * the job's name, its message and its stack, after every other job has finished.
 *
 * A worker that has not claimed its job by the time this thread's job returns has its job taken
 * back (control.ts CLAIM: it never runs it), and this thread runs it instead, with the same
 * arguments, so the results are the same bits. A worker that has not started after a whole
 * share of the work is asleep or descheduled: its vCPU, idle for a while, can take milliseconds
 * to run again on these virtual machines, where waiting for it cost a short call several times
 * its length. `shared`: every job takes its work from one counter until none is left (asm
 * `atomic.add` on a word the caller zeroed), so a job taken back has nothing left to do and is
 * not run at all.
 * @example
 * runJobs(e, 'reluForward', [[x, 0, n / 2, y], [x, n / 2, n, y]]);
 */
export function runJobs<K extends JobName>(e: Engine, kind: K, jobs: readonly NoInfer<JobArgs<K>>[], shared = false): void {
  let others = jobs.length - 1;
  const k = JOB_NAMES.indexOf(kind);
  if (others > 0 && !ensureWorkers(e, others)) {
    // Workers still starting (a browser page): every job here, in turn (same partition, same results).
    for (let t = 1; t <= others; t++) runHere(e, kind, jobs[t]);
    others = 0;
  }
  if (others > 0) {
    seq = seq >= 0x3fffffff ? 1 : seq + 1;
    for (let t = 1; t <= others; t++) {
      const base = t * CTL_WORDS;
      const job = jobs[t];
      for (let i = 0; i < job.length; i++) e.ctl[base + ARGS + i] = job[i];
      e.ctl[base + KIND] = k;
      // Settled (the last job claimed and done, or taken back): the worker swaps it only on seeing SEQ.
      claimBefore[t] = Atomics.load(e.ctl, base + CLAIM);
      Atomics.store(e.ctl, base + SEQ, seq);
      Atomics.notify(e.ctl, base + SEQ);
    }
  }
  let error: Error | null = null;
  try {
    runHere(e, kind, jobs[0]);
  } catch (err) {
    error = err as Error;
  }
  for (let t = 1; t <= others; t++) {
    const base = t * CTL_WORDS;
    if (takeBack(e.ctl, base, seq, claimBefore[t])) {
      takenBack++;
      if (!shared) {
        try {
          runHere(e, kind, jobs[t], `the calling thread (worker thread ${t}'s part, taken back)`);
        } catch (err) {
          error ??= err as Error;
        }
      }
      continue;
    }
    let done: number;
    if (platform.canBlock) {
      while ((done = Atomics.load(e.ctl, base + DONE)) !== seq) if (!spinWhile(e.ctl, base + DONE, done)) Atomics.wait(e.ctl, base + DONE, done);
    }
    else while (Atomics.load(e.ctl, base + DONE) !== seq);
    if (e.ctl[base + FAILED] !== 0) {
      // Read every report, so that none is left to be mistaken for a later job's.
      const msg = workers[t - 1].failure();
      error ??= msg ? workerError(msg, `worker thread ${t}`) : new Error(`wasm engine: job ${kind} failed on worker thread ${t} (no report)`);
    }
  }
  if (error) throw error;
}

/** CLAIM of each worker as its job was posted (index = thread). */
const claimBefore: number[] = [];
let takenBack = 0;

/** How many jobs' worker parts have been taken back so far (see {@link runJobs}; for tests and profiles). */
export function takenBackJobs(): number {
  return takenBack;
}

function runHere<K extends JobName>(e: Engine, kind: K, job: readonly number[], where = 'the calling thread'): void {
  try {
    (e.wasm[kind] as (...args: readonly number[]) => void)(...job);
  } catch (err) {
    const cause = err instanceof Error ? err : new Error(String(err));
    throw workerError({ job: kind, name: cause.name, message: cause.message, stack: cause.stack ?? '' }, where);
  }
}
