// The control block of one worker thread: Int32 words in the engine's shared memory through
// which the calling thread hands a job to the worker (src/backend/wasm/worker.ts) and waits for it.
import { MAX_JOB_ARGS } from './engine-exports.generated.js';
import type { EngineWorkerInit } from './platform-types.js';

/** Int32 words per worker control block (128 bytes, so two blocks never share a cache line). */
export const CTL_WORDS = 32;
/** Bumped by the caller for each job. */
export const SEQ = 0;
/** Set by the worker to the SEQ it finished. */
export const DONE = 1;
/** First of the job's argument words. */
export const ARGS = 2;
/** 1 when the worker's last job threw (its error waits on the worker's message port). */
export const FAILED = ARGS + MAX_JOB_ARGS;
/** Bumped when a worker is stopped: a stopped worker that wakes late never runs its successor's job. */
export const EPOCH = FAILED + 1;
/** Which export the job runs: an index into JOB_NAMES. */
export const KIND = EPOCH + 1;
/** 0 while the worker starts; 1 once it is ready, -1 when it could not instantiate the module. */
export const READY = KIND + 1;
/**
 * The SEQ of the last job settled: the worker's claim to run it (the SEQ itself), or the
 * caller's taking it back (the SEQ | {@link TAKEN}). Whoever swaps it first wins, so a job the
 * caller took back never runs on the worker, however late the worker comes to it.
 */
export const CLAIM = READY + 1;
/** Set in CLAIM beside a SEQ the caller took back. SEQs stay below it (engine.ts wraps them). */
export const TAKEN = 0x40000000;

/**
 * The worker's side of CLAIM: the SEQ of the job now posted in the block at `base` when the worker
 * claimed it and must run it, or minus that SEQ when the caller had taken it back (the worker must
 * not run it). CLAIM is read between two reads of the same SEQ, so it is compared with the job
 * that was posted then: a worker descheduled for a few jobs never claims one it saw earlier, which
 * the caller may have taken back and run itself.
 */
export function claimJob(w: Int32Array, base: number): number {
  for (;;) {
    const seq = Atomics.load(w, base + SEQ);
    const c = Atomics.load(w, base + CLAIM);
    if (Atomics.load(w, base + SEQ) !== seq) continue;
    if ((c & ~TAKEN) === seq) return -seq;
    if (Atomics.compareExchange(w, base + CLAIM, c, seq) === c) return seq;
  }
}

/**
 * The caller's side of CLAIM for job `seq`: `before` is what CLAIM held when the job was posted
 * (read before SEQ was stored). True when the worker had not claimed the job: it now never runs it.
 */
export function takeBack(w: Int32Array, base: number, seq: number, before: number): boolean {
  return Atomics.compareExchange(w, base + CLAIM, before, seq | TAKEN) === before;
}

/**
 * How long a thread polls a control word before it sleeps in Atomics.wait, in ms. A vCPU that
 * has slept comes back slow on these virtual machines, for a whole op: both the gaps of
 * JavaScript between one op's jobs (a few ms) and a caller's pause between calls are bridged
 * only when the poll outlasts the gaps inside a call, hence longer than them. ONNX Runtime's
 * threads poll longer still (README, Speed). Idle threads sleep after it.
 */
export const SPIN_MS = 10;

/**
 * Polls word `index` of `ctl` until it differs from `value` or {@link SPIN_MS} have passed;
 * true when it changed. The caller sleeps in Atomics.wait when it did not.
 */
export function spinWhile(ctl: Int32Array, index: number, value: number): boolean {
  const until = performance.now() + SPIN_MS;
  do {
    for (let i = 0; i < 64; i++) if (Atomics.load(ctl, index) !== value) return true;
  } while (performance.now() < until);
  return false;
}

/** What a worker sends on its port when a job fails. */
export interface WorkerFailure {
  job: string;
  name: string;
  message: string;
  stack: string;
}

/** What a Node worker thread receives as workerData. */
export interface WorkerInit extends EngineWorkerInit {
  port: import('node:worker_threads').MessagePort;
  /** The TypeScript entry src/backend/worker-loader.mjs imports (running from source). */
  entry?: string;
}
