// A worker thread of the WebAssembly engine under Node (the loop: worker-loop.ts). Failures go out
// on the worker's port, which the caller (blocked in Atomics.wait, its event loop stopped) reads
// with receiveMessageOnPort.
import { workerData } from 'node:worker_threads';
import type { WorkerInit } from './control.js';
import { runEngineWorker } from './worker-loop.js';

const init = workerData as WorkerInit;
runEngineWorker(init, (f) => init.port.postMessage(f));
init.port.close();
