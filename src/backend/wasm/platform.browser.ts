// The engine's platform in a browser (see platform-types.ts), taken in place of platform.ts by the
// browser bundle. Workers are Web Workers (worker-browser.ts, bundled beside this code as
// wasm-worker.browser.js). They can share the engine's memory only on a cross-origin isolated page
// (COOP/COEP headers): elsewhere the engine runs on one thread. A page's main thread may not block
// in Atomics.wait, and a worker started from it starts only once the page returns to its event
// loop, so the engine runs jobs on the calling thread until the workers have said they are ready.
import type { WorkerFailure } from './control.js';
import type { EnginePlatform, EngineWorker, EngineWorkerInit } from './platform-types.js';
import type { BrowserWorkerMessage } from './worker-browser.js';

interface WebWorker {
  onmessage: ((event: { data: BrowserWorkerMessage }) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
  postMessage(message: EngineWorkerInit): void;
  terminate(): void;
}
interface BrowserGlobals {
  Worker?: new (url: URL, options: { type: 'module'; name?: string }) => WebWorker;
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  atob(text: string): string;
  Atomics: typeof Atomics;
  WorkerGlobalScope?: unknown;
}
const g = globalThis as unknown as BrowserGlobals;

const started = new Map<number, Promise<void>>();

/** The engine's platform in a browser. */
export const platform: EnginePlatform = {
  runtime: 'this browser',
  // Only a worker may block; a page's main thread spins instead.
  canBlock: g.WorkerGlobalScope !== undefined,
  startsWhileBlocked: false,
  decodeBase64(text) {
    const s = g.atob(text);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  },
  freshBytes: (bytes) => ({ buffer: new ArrayBuffer(bytes), byteOffset: 0 }),
  enableRelaxedSimd: () => false,
  env: () => ({}),
  cores() {
    if (g.crossOriginIsolated !== true || g.Worker === undefined) return 1;
    return Math.max(1, g.navigator?.hardwareConcurrency ?? 1);
  },
  startWorker(index: number, init: EngineWorkerInit): EngineWorker {
    if (g.Worker === undefined) throw new Error(`wasm engine: this browser context has no Worker to start engine thread ${index}`);
    if (g.crossOriginIsolated !== true) {
      throw new Error(`wasm engine: engine thread ${index} needs a cross-origin isolated page (COOP: same-origin, COEP: require-corp) to share memory; use setBackend('cpu', { threads: 1 })`);
    }
    const worker = new g.Worker(new URL('./wasm-worker.browser.js', import.meta.url), { type: 'module', name: `tscnn-engine-${index}` });
    let last: WorkerFailure | undefined;
    started.set(
      index,
      new Promise<void>((resolve) => {
        worker.onmessage = (event) => {
          if (event.data.kind === 'failure') last = event.data.failure;
          resolve();
        };
        worker.onerror = (event) => {
          last = { job: 'start', name: 'Error', message: event.message ?? 'the worker script failed to load', stack: '' };
          resolve();
        };
      }),
    );
    worker.postMessage(init);
    return {
      failure: () => last,
      stop() {
        started.delete(index);
        worker.terminate();
      },
    };
  },
  whenStarted: (index) => started.get(index) ?? Promise.resolve(),
};
