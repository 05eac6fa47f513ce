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
