// The engine's platform on Node (see platform-types.ts): worker_threads, whose workers start
// while the calling thread blocks in Atomics.wait and report failures on a MessagePort that the
// caller reads synchronously (receiveMessageOnPort).
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { startWithExecArgv } from '../../util/worker-args.js';
import type { WorkerFailure, WorkerInit } from './control.js';
import type { EnginePlatform, EngineWorker, EngineWorkerInit } from './platform-types.js';

// The compiled worker entry beside the bundle (dist/), or the TypeScript one through the tsx
// loader when running from source.
function workerEntry(): { url: URL; entry?: string } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return { url: new URL('../worker-loader.mjs', here), entry: new URL('./worker.ts', here).href };
  return { url: new URL(here.endsWith('.cjs') ? './wasm-worker.cjs' : './wasm-worker.js', here) };
}

/** The engine's platform under Node. */
export const platform: EnginePlatform = {
  runtime: `Node ${process.version}`,
  canBlock: true,
  startsWhileBlocked: true,
  decodeBase64: (text) => Buffer.from(text, 'base64'),
  freshBytes(bytes) {
    const b = Buffer.allocUnsafeSlow(bytes);
    return { buffer: b.buffer, byteOffset: b.byteOffset };
  },
  enableRelaxedSimd() {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    return true;
  },
  env: () => process.env,
  cores: () => availableParallelism(),
  startWorker(_index: number, init: EngineWorkerInit): EngineWorker {
    const { url, entry } = workerEntry();
    const { port1, port2 } = new MessageChannel();
    const data: WorkerInit = { ...init, port: port2, entry };
    const worker = startWithExecArgv((execArgv) => new Worker(url, { workerData: data, transferList: [port2], execArgv }));
    worker.unref();
    port1.unref();
    return {
      failure: () => receiveMessageOnPort(port1)?.message as WorkerFailure | undefined,
      stop() {
        port1.close();
        void worker.terminate();
      },
    };
  },
};
