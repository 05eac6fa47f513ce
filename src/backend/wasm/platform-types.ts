// What the WebAssembly engine needs from the runtime it runs in, as one typed contract with two
// implementations: platform.ts (Node: worker_threads, v8, os, process.env, Buffer) and
// platform.browser.ts (Web Workers, navigator, atob), which the browser bundle (tsup.config.ts)
// takes in place of platform.ts. The engine's control blocks and jobs are the same on both.
import type { WorkerFailure } from './control.js';

/** What a worker of the engine is started with (the module and memory it shares). */
export interface EngineWorkerInit {
  module: object;
  memory: object;
  /** Byte offset of this worker's control block. */
  ctl: number;
  epoch: number;
  seen: number;
}

/** One started worker of the engine. */
export interface EngineWorker {
  /** The report of the worker's last failure, if it sent one that can be read now (Node); undefined otherwise. */
  failure(): WorkerFailure | undefined;
  /** Terminates the worker (its control block's EPOCH has already been bumped). */
  stop(): void;
}

/** The runtime's side of the engine. */
export interface EnginePlatform {
  /** 'Node v20.…' or 'this browser': named in errors. */
  readonly runtime: string;
  /**
   * Whether this thread may block in Atomics.wait (a page's main thread may not: it spins on
   * Atomics.load instead while the workers run a job).
   */
  readonly canBlock: boolean;
  /**
   * Whether a worker that was just started becomes ready while this thread blocks (Node), or only
   * after this thread returns to its event loop (browsers: jobs run on this thread until then).
   */
  readonly startsWhileBlocked: boolean;
  /** The WebAssembly bytes in a base64 string. */
  decodeBase64(text: string): Uint8Array;
  /** Uninitialised storage for `bytes` bytes (the caller overwrites all of it). */
  freshBytes(bytes: number): { buffer: ArrayBufferLike; byteOffset: number };
  /** Turns on V8's --experimental-wasm-relaxed-simd where the runtime allows it; false where it cannot. */
  enableRelaxedSimd(): boolean;
  /** The environment variables that supply the cpu backend's defaults ({} in a browser). */
  env(): Record<string, string | undefined>;
  /** Threads the engine may use by default: the cores, or 1 where workers cannot share memory. */
  cores(): number;
  /** Starts worker `index` (1-based) of the engine on its control block. */
  startWorker(index: number, init: EngineWorkerInit): EngineWorker;
  /** Resolves when worker `index` has reported ready (or failed: the control block says which). */
  whenStarted?(index: number): Promise<void>;
}
