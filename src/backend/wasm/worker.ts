// A worker thread of the WebAssembly engine (src/backend/wasm/engine.ts): its own instance of the
// module over the same shared memory, running one job per SEQ bump of its control block. A job
// that throws is reported, with its stack, on the worker's port before DONE is set, so the caller
// (blocked in Atomics.wait, its event loop stopped) reads it with receiveMessageOnPort.
import { workerData } from 'node:worker_threads';
import { ARGS, CTL_WORDS, DONE, EPOCH, FAILED, KIND, READY, SEQ, type WorkerFailure, type WorkerInit } from './control.js';
import { JOB_NAMES, MAX_JOB_ARGS, type EngineExports } from './engine-exports.generated.js';

type WasmInstance = new (module: object, imports: object) => { exports: unknown };
const { module, memory, ctl, epoch, port } = workerData as WorkerInit;
let seen = (workerData as WorkerInit).seen;
const w = new Int32Array((memory as { buffer: SharedArrayBuffer }).buffer, ctl, CTL_WORDS);

function failure(job: string, e: unknown): WorkerFailure {
  const err = e instanceof Error ? e : new Error(String(e));
  return { job, name: err.name, message: err.message, stack: err.stack ?? '' };
}

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
  port.postMessage(failure('instantiate', e));
}
Atomics.notify(w, READY);

const args: number[] = new Array<number>(MAX_JOB_ARGS).fill(0);
for (;;) {
  Atomics.wait(w, SEQ, seen);
  if (Atomics.load(w, EPOCH) !== epoch) break;
  const seq = Atomics.load(w, SEQ);
  if (seq === seen) continue;
  seen = seq;
  const kind = w[KIND];
  let failed = 0;
  try {
    if (startError !== null) throw startError;
    for (let i = 0; i < MAX_JOB_ARGS; i++) args[i] = w[ARGS + i];
    fns[kind](...args);
  } catch (e) {
    failed = 1;
    port.postMessage(failure(JOB_NAMES[kind] ?? `job ${kind}`, e));
  }
  w[FAILED] = failed;
  Atomics.store(w, DONE, seq);
  Atomics.notify(w, DONE);
}
port.close();
