import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { CTL_WORDS, DEAD, DONE, type AdapterInfo, type Reply, type WebGpuWorkerData, type WireArg } from './webgpu-protocol.js';

// gpu.js 'webgpu' kernels return Promises (readback is mapAsync) while the op table is synchronous. So a
// worker thread owns the WebGPU device and runs gpu.js there. Kernel runs whose results stay on the device
// are queued: the calling thread posts them (their arguments in a shared buffer, results named by ids it
// hands out before they exist) and goes on; the worker handles messages strictly in the order posted.
// The calling thread blocks on Atomics.wait only where a value must come back (a readback, a kernel's
// first run, which compiles it and so may fail or fall back, stats) until the worker has written the
// answer into the shared buffer and bumped DONE; by then every run queued before is done, so a host read
// of a device array mid-queue sees the values of everything queued before it. Replies (errors, counts)
// come back on a MessagePort read synchronously with receiveMessageOnPort once DONE says they are there.
// A queued run that fails is reported by the next blocking request.

export type { AdapterInfo } from './webgpu-protocol.js';

/** A kernel result the worker keeps on the device until the op ends. */
export class DeviceResult {
  constructor(
    readonly id: number,
    readonly length: number,
  ) {}
}

/** Seconds a request may take before the worker is given up on (compiling a large kernel on lavapipe takes ~0.3 s). */
const REQUEST_TIMEOUT_MS = 120_000;
/** The probe and start-up: loading Dawn and asking for an adapter (~40–300 ms here). */
const START_TIMEOUT_MS = 30_000;

// The compiled worker entry beside the bundle (dist/), or the TypeScript one through the tsx
// loader when running from source.
function workerEntry(): { url: URL; entry?: string } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return { url: new URL('../worker-loader.mjs', here), entry: new URL('./webgpu-device-worker.ts', here).href };
  return { url: new URL(here.endsWith('.cjs') ? './webgpu-worker.cjs' : './webgpu-worker.js', here) };
}

/** Paths the worker loads gpu.js and webgpu from, resolved from this module (tsx, dist/index.js or dist/index.cjs). */
function modulePaths(): { gpujsPath: string; contextPath: string; webgpuUrl: string } {
  const here = typeof __filename === 'string' ? __filename : import.meta.url;
  const require = createRequire(here);
  const gpujsPath = require.resolve('gpu.js');
  // webgpu is gpu.js's dependency (pinned to 0.6.2 by the package's npm overrides), so resolve it from there.
  const webgpuUrl = pathToFileURL(createRequire(gpujsPath).resolve('webgpu')).href;
  const contextPath = join(dirname(gpujsPath), 'backend', 'web-gpu', 'context.js');
  return { gpujsPath, contextPath, webgpuUrl };
}

/**
 * A worker thread that owns a WebGPU device and runs gpu.js 'webgpu' kernels for the calling thread,
 * which blocks until each request is done. Made by {@link startWebGpuWorker}.
 */
export class WebGpuWorker {
  // Request 1 was the start-up (spawn).
  private seq = 1;
  private nextId = 1;
  private data: Float32Array<ArrayBufferLike> = new Float32Array(0);
  /**
   * Floats of the shared data buffer that queued runs' arguments use: the worker may not have read them
   * yet, so they are not overwritten until the next blocking request (the worker is then past them).
   */
  private queued = 0;
  private readonly compiled = new Set<string>();
  private last: Reply = { seq: 0, liveKernels: 0, deviceBuffers: 0, heldResults: 0 };
  private disposed = false;
  /** Blocking round trips to the worker so far (readbacks, first runs, flushes); queued runs are not. */
  roundTrips = 0;
  /** Kernel runs posted to the worker without waiting. */
  queuedRuns = 0;
  /** Resolves with the worker's exit code once its thread has ended. */
  readonly exited: Promise<number>;

  constructor(
    private readonly worker: Worker,
    private readonly ctl: Int32Array,
    private readonly port: MessagePort,
    readonly adapter: AdapterInfo,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', resolve));
  }

  /** Posts a request and blocks until the worker has answered it; throws the worker's error. */
  private call(message: Record<string, unknown>, timeoutMs = REQUEST_TIMEOUT_MS): Reply {
    if (this.disposed) throw new Error('gpu backend (webgpu): the device worker was disposed');
    const seq = (this.seq = this.seq >= 0x3fffffff ? 2 : this.seq + 1);
    if (message.type === 'run' || message.type === 'read' || message.type === 'sync') this.roundTrips++;
    this.worker.postMessage({ ...message, seq });
    const reply = waitReply(this.ctl, this.port, seq, timeoutMs, String(message.type));
    if (reply === null) {
      this.kill();
      const why = Atomics.load(this.ctl, DEAD) ? 'the device worker exited' : `no answer within ${timeoutMs / 1000} s`;
      throw new Error(`gpu backend (webgpu): request '${String(message.type)}' failed: ${why}; the backend is unusable now`);
    }
    this.last = reply;
    // The worker has handled every request posted before this one: their arguments are read.
    this.queued = 0;
    for (const key of reply.failed ?? []) this.compiled.delete(key);
    if (reply.error) {
      const err = new Error(`gpu backend (webgpu): ${reply.error}`);
      if (reply.stack) err.stack = `${err.stack}\n  caused in the device worker by: ${reply.stack}`;
      throw err;
    }
    return reply;
  }

  /** A request the worker handles before the next one, without waiting for it. */
  private post(message: Record<string, unknown>): void {
    if (!this.disposed) this.worker.postMessage(message);
  }

  /**
   * Room for `floats` values in the shared data buffer after the queued runs' arguments; returns where it
   * starts. When the buffer is full of queued arguments the queue is flushed first; a bigger buffer is
   * handed to the worker before the request that needs it (queued runs still read the old one).
   */
  private reserve(floats: number): number {
    if (this.queued > 0 && this.queued + floats > this.data.length) this.flush();
    if (this.queued + floats > this.data.length) {
      const length = Math.max(floats, 2 * this.data.length, 1 << 18);
      this.data = new Float32Array(new SharedArrayBuffer(length * 4));
      this.queued = 0;
      this.post({ type: 'buffer', buffer: this.data.buffer });
    }
    return this.queued;
  }

  /** Blocks until the worker has run everything queued; throws the error of a queued run that failed. */
  flush(): void {
    this.call({ type: 'sync' });
  }

  /**
   * Runs kernel `key` (compiled from `source` with output `size` and `constants` the first time) on the
   * arguments. `keep`: the result stays on the device as a {@link DeviceResult} until {@link release},
   * and the run is queued (no wait) once the kernel is compiled; else it is read back at once.
   */
  run(
    key: string, name: string, source: string, size: number, constants: object,
    args: (Float32Array | DeviceResult)[], keep: boolean,
  ): Float32Array | DeviceResult {
    let floats = 0;
    for (const a of args) if (a instanceof Float32Array) floats += a.length;
    let at = this.reserve(floats + (keep ? 0 : size));
    const data = this.data;
    const wire: WireArg[] = args.map((a) => {
      if (a instanceof DeviceResult) return [1, a.id];
      data.set(a, at);
      at += a.length;
      return [0, at - a.length, a.length];
    });
    const first = !this.compiled.has(key);
    const id = keep ? this.nextId++ : 0;
    const message = { type: 'run', key, name, source: first ? source : undefined, size, constants: first ? constants : undefined, args: wire, keep, id, out: at };
    if (keep && !first) {
      if (this.disposed) throw new Error('gpu backend (webgpu): the device worker was disposed');
      this.post(message);
      this.queued = at;
      this.queuedRuns++;
      return new DeviceResult(id, size);
    }
    this.call(message);
    this.compiled.add(key);
    if (keep) return new DeviceResult(id, size);
    return data.slice(at, at + size);
  }

  /** A kept result, read back (after every run queued before it). */
  read(result: DeviceResult): Float32Array {
    const at = this.reserve(result.length);
    this.call({ type: 'read', id: result.id, out: at });
    return this.data.slice(at, at + result.length);
  }

  /** Deletes kept results on the device. */
  release(results: DeviceResult[]): void {
    if (results.length > 0) this.post({ type: 'release', ids: results.map((r) => r.id) });
  }

  /** Destroys a compiled kernel and its device buffers. */
  destroy(key: string): void {
    if (this.compiled.delete(key)) this.post({ type: 'destroy', key });
  }

  /** Counts in the worker, after every request posted so far. */
  stats(): { liveKernels: number; deviceBuffers: number; heldResults: number } {
    const r = this.disposed ? this.last : this.call({ type: 'stats' });
    return { liveKernels: r.liveKernels, deviceBuffers: r.deviceBuffers, heldResults: r.heldResults };
  }

  /** Destroys every kernel and buffer and the device itself, then ends the worker. */
  dispose(): void {
    if (this.disposed) return;
    try {
      this.call({ type: 'dispose' }, START_TIMEOUT_MS);
    } finally {
      this.kill();
    }
  }

  private kill(): void {
    this.disposed = true;
    this.compiled.clear();
    this.port.close();
    void this.worker.terminate();
  }
}

/** Blocks until the reply to `seq` is there; null when the worker died or the time ran out. */
function waitReply(ctl: Int32Array, port: MessagePort, seq: number, timeoutMs: number, what: string): Reply | null {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = Atomics.load(ctl, DONE);
    if (done === seq) break;
    if (Atomics.load(ctl, DEAD)) return null;
    const left = deadline - Date.now();
    if (left <= 0) return null;
    Atomics.wait(ctl, DONE, done, Math.min(left, 1000));
  }
  for (;;) {
    const received = receiveMessageOnPort(port);
    if (!received) throw new Error(`gpu backend (webgpu): request '${what}' done but its reply is missing`);
    const reply = received.message as Reply;
    // Replies to requests given up on earlier are skipped.
    if (reply.seq === seq) return reply;
  }
}

function spawn(probeOnly: boolean): { worker: Worker; ctl: Int32Array; port: MessagePort; reply: Reply | null } {
  const ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  const { port1, port2 } = new MessageChannel();
  const { url, entry } = workerEntry();
  const workerData: WebGpuWorkerData = { ctlBuffer: ctl.buffer, port: port2, probeOnly, entry, ...modulePaths() };
  const worker = new Worker(url, {
    // No loader hooks of the calling process in the worker (from source, worker-loader.mjs registers tsx's).
    execArgv: [],
    workerData,
    transferList: [port2],
  });
  worker.unref();
  worker.postMessage({ type: 'init', seq: 1 });
  const reply = waitReply(ctl, port1, 1, START_TIMEOUT_MS, 'init');
  return { worker, ctl, port: port1, reply };
}

/** Whether a WebGPU adapter exists here: the answer of {@link probeWebGpu}. */
export type WebGpuProbe = { available: true; adapter: AdapterInfo } | { available: false; reason: string };

let probed: WebGpuProbe | undefined;

/**
 * Asks Dawn (the `webgpu` package) for an adapter, in a short-lived worker, blocking; the answer is cached
 * for the process. Without an adapter the reason says what is missing (Vulkan loader, driver, or a
 * driver Dawn rejects such as Debian 12's own lavapipe).
 */
export function probeWebGpu(): WebGpuProbe {
  if (probed) return probed;
  let started: ReturnType<typeof spawn> | null = null;
  try {
    started = spawn(true);
    const r = started.reply;
    if (!r) probed = { available: false, reason: `the WebGPU probe worker gave no answer within ${START_TIMEOUT_MS / 1000} s` };
    else if (r.error) probed = { available: false, reason: r.error };
    else if (!r.adapter) probed = { available: false, reason: r.reason ?? 'no adapter' };
    else probed = { available: true, adapter: r.adapter };
  } catch (e) {
    probed = { available: false, reason: `the WebGPU probe worker did not start: ${(e as Error).message}` };
  } finally {
    if (started) {
      started.port.close();
      void started.worker.terminate();
    }
  }
  return probed;
}

/** Starts a device worker: loads gpu.js and Dawn there and acquires the device. Throws when there is no adapter. */
export function startWebGpuWorker(): WebGpuWorker {
  const { worker, ctl, port, reply } = spawn(false);
  if (!reply || reply.error || !reply.adapter) {
    port.close();
    void worker.terminate();
    const why = !reply ? `no answer within ${START_TIMEOUT_MS / 1000} s` : (reply.error ?? reply.reason ?? 'no adapter');
    throw new Error(`gpu backend: mode 'webgpu' cannot start here: ${why}`);
  }
  return new WebGpuWorker(worker, ctl, port, reply.adapter);
}
