// A Web Worker of the WebAssembly engine in a browser (the loop: worker-loop.ts), started by
// platform.browser.ts with the module and shared memory as its first message. It tells the page
// when it is ready; a failure goes to the page as a message and to the console (the page may be
// spinning on the control block and read the message only later).
import type { WorkerFailure } from './control.js';
import type { EngineWorkerInit } from './platform-types.js';
import { runEngineWorker } from './worker-loop.js';

/** What a browser engine worker posts to the page. */
export type BrowserWorkerMessage = { kind: 'started' } | { kind: 'failure'; failure: WorkerFailure };

interface WorkerScope {
  onmessage: ((event: { data: EngineWorkerInit }) => void) | null;
  postMessage(message: BrowserWorkerMessage): void;
}

const scope = globalThis as unknown as WorkerScope;
scope.onmessage = (event) => {
  scope.onmessage = null;
  runEngineWorker(
    event.data,
    (failure) => {
      console.error(`tscnn wasm engine worker: job ${failure.job} failed: ${failure.stack || failure.message}`);
      scope.postMessage({ kind: 'failure', failure });
    },
    () => scope.postMessage({ kind: 'started' }),
  );
};
