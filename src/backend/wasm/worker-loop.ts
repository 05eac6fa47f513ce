// The loop of a worker of the WebAssembly engine (src/backend/wasm/engine.ts), shared by the Node
// entry (worker.ts) and the browser one (worker-browser.ts): its own instance of the module over
// the same shared memory, running one job per SEQ bump of its control block that it claims before
// the caller takes it back (control.ts CLAIM). A job that throws is reported (with its stack)
// through `report` before DONE is set.
import { ARGS, claimJob, CTL_WORDS, DONE, EPOCH, FAILED, KIND, READY, SEQ, spinWhile, type WorkerFailure } from './control.js';
import { JOB_NAMES, MAX_JOB_ARGS, type EngineExports } from './engine-exports.generated.js';
import type { EngineWorkerInit } from './platform-types.js';

type WasmInstance = new (module: object, imports: object) => { exports: unknown };

function failure(job: string, e: unknown): WorkerFailure {
  const err = e instanceof Error ? e : new Error(String(e));
  return { job, name: err.name, message: err.message, stack: err.stack ?? '' };
}

/**
 * Instantiates the module, marks the control block READY (1, or -1 after reporting why not) and
 * runs jobs until the block's EPOCH changes. `started` is told once READY is set.
 */
export function runEngineWorker(init: EngineWorkerInit, report: (f: WorkerFailure) => void, started?: () => void): void {
  const { module, memory, ctl, epoch } = init;
  let seen = init.seen;
  const w = new Int32Array((memory as { buffer: SharedArrayBuffer }).buffer, ctl, CTL_WORDS);
  let fns: ((...args: number[]) => void)[] = [];
  let startError: unknown = null;
  try {
    const Instance = (globalThis as unknown as { WebAssembly: { Instance: WasmInstance } }).WebAssembly.Instance;
    const ex = new Instance(module, { env: { memory } }).exports as EngineExports;
    fns = JOB_NAMES.map((name) => ex[name] as (...args: number[]) => void);
    Atomics.store(w, READY, 1);
  } catch (e) {
    startError = e;
    Atomics.store(w, READY, -1);
    report(failure('instantiate', e));
  }
  Atomics.notify(w, READY);
  started?.();

  const args: number[] = new Array<number>(MAX_JOB_ARGS).fill(0);
  for (;;) {
    if (!spinWhile(w, SEQ, seen)) Atomics.wait(w, SEQ, seen);
    if (Atomics.load(w, EPOCH) !== epoch) break;
    if (Atomics.load(w, SEQ) === seen) continue;
    // The job posted now, claimed; or taken back by the caller (which did its work itself), then
    // not run. The caller posts no other job until this one is claimed and done, or taken back.
    const got = claimJob(w, 0);
    seen = Math.abs(got);
    if (got <= 0) continue;
    const seq = got;
    const kind = w[KIND];
    let failed = 0;
    try {
      if (startError !== null) throw startError;
      for (let i = 0; i < MAX_JOB_ARGS; i++) args[i] = w[ARGS + i];
      fns[kind](...args);
    } catch (e) {
      failed = 1;
      report(failure(JOB_NAMES[kind] ?? `job ${kind}`, e));
    }
    w[FAILED] = failed;
    Atomics.store(w, DONE, seq);
    Atomics.notify(w, DONE);
  }
}
