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
 * The worker's side of CLAIM, for job `seq`, which it saw posted: true when it claimed the job
 * and must run it, false when the caller had taken it back (and the worker must not run it).
 */
export function claimJob(w: Int32Array, base: number, seq: number): boolean {
  for (;;) {
    const c = Atomics.load(w, base + CLAIM);
    if ((c & ~TAKEN) === seq) return false;
    if (Atomics.compareExchange(w, base + CLAIM, c, seq) === c) return true;
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
