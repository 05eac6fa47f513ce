import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

// gpu.js 'webgpu' kernels return Promises (readback is mapAsync) while the op table is synchronous. So a
// worker thread owns the WebGPU device and runs gpu.js there; the calling thread posts each request and
// blocks on Atomics.wait until the worker, whose event loop stays free to await the kernel, has written
// the result into a shared buffer and bumped DONE. Replies (errors, counts) come back on a MessagePort
// read synchronously with receiveMessageOnPort once DONE says they are there.

// Int32 words of the control buffer.
const DONE = 0;
// Set by the worker as it exits: a caller blocked on DONE wakes and throws instead of waiting forever.
const DEAD = 1;
const CTL_WORDS = 16;

/** The worker's answer to a request. */
interface Reply {
  seq: number;
  error?: string;
  /** Kernels alive in the worker's gpu.js instance. */
  liveKernels: number;
  /** GPU buffers alive on the worker's WebGPU device (created and not destroyed). */
  deviceBuffers: number;
  /** Kernel results the worker keeps on the device for the running op. */
  heldResults: number;
  adapter?: AdapterInfo | null;
  reason?: string;
}

/** What the WebGPU adapter says about itself. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software implementation (lavapipe/llvmpipe, SwiftShader, a fallback adapter), never a GPU. */
  software: boolean;
}

/** A kernel argument as the worker receives it: [0, offset, length] in the shared data buffer, or [1, result id]. */
type WireArg = [0, number, number] | [1, number];

// Runs in the worker (CommonJS, eval). One request at a time, in the order posted: each message is chained
// on the previous one's promise, so a buffer handover or a kernel destroy never overtakes a kernel run.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const { ctlBuffer, port, gpujsPath, contextPath, webgpuUrl, probeOnly } = workerData;
const ctl = new Int32Array(ctlBuffer);
let data = new Float32Array(0);
let gpu = null;
let WebGPUContext = null;
const kernels = new Map();
const modeKernels = new Map();
const results = new Map();
let liveBuffers = 0;
let deferred = null;

process.on('exit', () => {
  Atomics.store(ctl, ${DEAD}, 1);
  Atomics.notify(ctl, ${DONE});
});

function reply(seq, body) {
  port.postMessage(Object.assign({
    seq,
    liveKernels: gpu ? gpu.kernels.length : 0,
    deviceBuffers: liveBuffers,
    heldResults: results.size,
  }, deferred && !body.error ? { error: deferred } : {}, body));
  deferred = null;
  Atomics.store(ctl, ${DONE}, seq);
  Atomics.notify(ctl, ${DONE});
}

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software/i;

// Whether the dynamic linker finds a loadable libvulkan.so.1 (Dawn unloads it again when it found no
// driver). process.dlopen loads it, then rejects it for not being a Node addon: that rejection means it loaded.
function vulkanLoaderLoads() {
  try {
    process.dlopen({ exports: {} }, 'libvulkan.so.1');
    return true;
  } catch (e) {
    return /did not self-register/.test(String(e && e.message));
  }
}

// Why requestAdapter() gave nothing, read off the shared objects Dawn loaded into this process.
function noAdapterReason() {
  let maps = '';
  try { maps = readFileSync('/proc/self/maps', 'utf8'); } catch {}
  const icds = [...new Set((maps.match(/libvulkan_\\w+\\.so[.\\d]*/g) || []))];
  if (!/libvulkan\\.so/.test(maps) && !vulkanLoaderLoads()) {
    return 'requestAdapter() resolved null: no Vulkan loader (libvulkan.so.1) could be loaded; install libvulkan1 and a Vulkan driver (no GPU: Mesa 25 lavapipe, see README "WebGPU")';
  }
  if (icds.length === 0) {
    return 'requestAdapter() resolved null: the Vulkan loader found no driver (ICD); install one (no GPU: Mesa 25 lavapipe, see README "WebGPU"), or check VK_ICD_FILENAMES';
  }
  const lvp = icds.find((p) => /lvp/.test(p));
  return 'requestAdapter() resolved null: Dawn rejected every Vulkan driver loaded (' + icds.join(', ') + ')' +
    (lvp ? '; Debian 12\\'s own lavapipe (Mesa 22.3) is too old for Dawn, Mesa 25 from bookworm-backports works (README "WebGPU")' : '');
}

async function init(m) {
  let api;
  try {
    api = await import(webgpuUrl);
  } catch (e) {
    return { adapter: null, reason: 'the webgpu package did not load: ' + (e && e.message) };
  }
  Object.assign(globalThis, api.globals);
  if (!globalThis.navigator) globalThis.navigator = {};
  Object.defineProperty(globalThis.navigator, 'gpu', { value: api.create([]), configurable: true });
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return { adapter: null, reason: noAdapterReason() };
  const i = adapter.info || {};
  const info = {
    vendor: String(i.vendor || ''),
    architecture: String(i.architecture || ''),
    device: String(i.device || ''),
    description: String(i.description || ''),
  };
  info.software = Boolean(i.isFallbackAdapter || adapter.isFallbackAdapter) || SOFTWARE.test(info.architecture + ' ' + info.device + ' ' + info.description);
  if (probeOnly) return { adapter: info };
  WebGPUContext = require(contextPath).WebGPUContext;
  const { GPU } = require(gpujsPath);
  const context = await WebGPUContext.acquire();
  // gpu.js keeps no count of its device buffers: count them at the device every kernel shares.
  const device = context.device;
  const createBuffer = device.createBuffer.bind(device);
  device.createBuffer = (descriptor) => {
    const buffer = createBuffer(descriptor);
    liveBuffers++;
    const destroy = buffer.destroy.bind(buffer);
    let alive = true;
    buffer.destroy = () => {
      if (alive) liveBuffers--;
      alive = false;
      destroy();
    };
    return buffer;
  };
  gpu = new GPU({ mode: 'webgpu' });
  return { adapter: info };
}

function destroyKernel(key) {
  const k = kernels.get(key);
  if (!k) return;
  kernels.delete(key);
  const own = modeKernels.get(key);
  modeKernels.delete(key);
  k.destroy();
  if (own && own !== k.kernel) own.destroy();
}

function argument(a) {
  if (a[0] === 0) return data.subarray(a[1], a[1] + a[2]);
  const r = results.get(a[1]);
  if (!r) throw new Error('result ' + a[1] + ' is not on the device (released?)');
  return r;
}

async function run(m) {
  try {
    await runKernel(m);
  } catch (e) {
    // A kernel that failed (or fell back) is not kept: the caller compiles it afresh next time.
    destroyKernel(m.key);
    const message = String((e && e.message) || e);
    throw new Error(message.startsWith("kernel '") ? message : "kernel '" + m.name + "': " + message);
  }
}

async function runKernel(m) {
  let k = kernels.get(m.key);
  if (!k) {
    const fn = new Function('return (' + m.source + ')')();
    k = gpu.createKernel(fn, {
      output: [m.size],
      constants: m.constants,
      precision: 'single',
      tactic: 'precision',
      optimizeFloatMemory: false,
      dynamicOutput: false,
      dynamicArguments: false,
      // Results stay on the device as buffers; immutable: each call gets a buffer of its own.
      pipeline: true,
      immutable: true,
    });
    kernels.set(m.key, k);
    modeKernels.set(m.key, k.kernel);
  }
  const out = await k(...m.args.map(argument));
  const ran = k.kernel;
  if (ran.constructor.name !== 'WebGPUKernel') {
    throw new Error("kernel '" + m.name + "' ran on " + ran.constructor.name + " instead of WebGPUKernel (mode 'webgpu'): " + (ran.fallbackReason || 'no reason given'));
  }
  if (!out || out.constructor.name !== 'WebGPUBufferResult') {
    throw new Error("kernel '" + m.name + "' returned " + (out && out.constructor.name) + ' instead of a WebGPUBufferResult');
  }
  if (m.keep) {
    results.set(m.id, out);
    return;
  }
  try {
    data.set(await out.toArray(), m.out);
  } finally {
    out.delete();
  }
}

async function read(m) {
  data.set(await argument([1, m.id]).toArray(), m.out);
}

function release(ids) {
  for (const id of ids) {
    const r = results.get(id);
    results.delete(id);
    if (r) r.delete();
  }
}

async function dispose() {
  release([...results.keys()]);
  for (const key of [...kernels.keys()]) destroyKernel(key);
  if (gpu) await gpu.destroy();
  if (WebGPUContext) await WebGPUContext.destroy();
}

async function handle(m) {
  try {
    switch (m.type) {
      case 'buffer': data = new Float32Array(m.buffer); return;
      case 'destroy': destroyKernel(m.key); return;
      case 'release': release(m.ids); return;
      case 'init': reply(m.seq, await init(m)); return;
      case 'run': await run(m); break;
      case 'read': await read(m); break;
      case 'stats': break;
      case 'dispose': await dispose(); break;
      default: throw new Error('unknown request ' + m.type);
    }
    reply(m.seq, {});
  } catch (e) {
    const message = String((e && e.message) || e);
    if (m.seq === undefined) deferred = deferred || message;
    else reply(m.seq, { error: message });
  }
}

let queue = Promise.resolve();
parentPort.on('message', (m) => {
  queue = queue.then(() => handle(m));
});
`;

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
  private readonly compiled = new Set<string>();
  private last: Reply = { seq: 0, liveKernels: 0, deviceBuffers: 0, heldResults: 0 };
  private disposed = false;
  /** Kernel runs and readbacks so far: each one blocking round trip to the worker. */
  roundTrips = 0;
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
    if (message.type === 'run' || message.type === 'read') this.roundTrips++;
    this.worker.postMessage({ ...message, seq });
    const reply = waitReply(this.ctl, this.port, seq, timeoutMs, String(message.type));
    if (reply === null) {
      this.kill();
      const why = Atomics.load(this.ctl, DEAD) ? 'the device worker exited' : `no answer within ${timeoutMs / 1000} s`;
      throw new Error(`gpu backend (webgpu): request '${String(message.type)}' failed: ${why}; the backend is unusable now`);
    }
    this.last = reply;
    if (reply.error) throw new Error(`gpu backend (webgpu): ${reply.error}`);
    return reply;
  }

  /** A request the worker handles before the next one, without waiting for it. */
  private post(message: Record<string, unknown>): void {
    if (!this.disposed) this.worker.postMessage(message);
  }

  /** The shared data buffer, at least `floats` long: a bigger one is handed to the worker before the request that needs it. */
  private reserve(floats: number): Float32Array {
    if (this.data.length < floats) {
      const length = Math.max(floats, 2 * this.data.length, 1 << 18);
      this.data = new Float32Array(new SharedArrayBuffer(length * 4));
      this.post({ type: 'buffer', buffer: this.data.buffer });
    }
    return this.data;
  }

  /**
   * Runs kernel `key` (compiled from `source` with output `size` and `constants` the first time) on the
   * arguments. `keep`: the result stays on the device as a {@link DeviceResult} until {@link release};
   * else it is read back at once.
   */
  run(
    key: string, name: string, source: string, size: number, constants: object,
    args: (Float32Array | DeviceResult)[], keep: boolean,
  ): Float32Array | DeviceResult {
    let floats = 0;
    for (const a of args) if (a instanceof Float32Array) floats += a.length;
    const data = this.reserve(floats + (keep ? 0 : size));
    let at = 0;
    const wire: WireArg[] = args.map((a) => {
      if (a instanceof DeviceResult) return [1, a.id];
      data.set(a, at);
      at += a.length;
      return [0, at - a.length, a.length];
    });
    const first = !this.compiled.has(key);
    const id = keep ? this.nextId++ : 0;
    this.call({ type: 'run', key, name, source: first ? source : undefined, size, constants: first ? constants : undefined, args: wire, keep, id, out: at });
    this.compiled.add(key);
    if (keep) return new DeviceResult(id, size);
    return data.slice(at, at + size);
  }

  /** A kept result, read back. */
  read(result: DeviceResult): Float32Array {
    const data = this.reserve(result.length);
    this.call({ type: 'read', id: result.id, out: 0 });
    return data.slice(0, result.length);
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
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    // Plain Node in the worker: no loader hooks (tsx) of the calling process.
    execArgv: [],
    workerData: { ctlBuffer: ctl.buffer, port: port2, probeOnly, ...modulePaths() },
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
