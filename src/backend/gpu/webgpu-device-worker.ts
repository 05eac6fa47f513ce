// The WebGPU device worker (started by webgpu-worker.ts): owns the device, runs gpu.js 'webgpu'
// kernels for the calling thread. One request at a time, in the order posted: each message is
// chained on the previous one's promise, so a buffer handover, a kernel destroy or a readback never
// overtakes a kernel run queued before it. Each answered request ends with a Reply on the port and DONE
// bumped in the control buffer (the caller is blocked in Atomics.wait); queued runs are not answered. gpu.js and webgpu are loaded from the paths the
// caller resolved (workerData), so the worker finds the same copies from source and from dist/.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type { GPU as GpuClass, IKernelRunShortcut } from 'gpu.js';
import { DEAD, DONE, type AdapterInfo, type Reply, type Request, type WebGpuWorkerData, type WireArg } from './webgpu-protocol.js';

/** A kernel result kept on the device (gpu.js WebGPUBufferResult). */
interface BufferResult {
  toArray(): Promise<Float32Array> | Float32Array;
  delete(): void;
}
/** The gpu.js kernel runner with the fields read here (gpu.js types do not declare them). */
type Kernel = IKernelRunShortcut & { kernel: { constructor: { name: string }; fallbackReason?: string; destroy(): void } };
/** The parts of WebGPU (Dawn, the `webgpu` package) used here. */
interface GpuAdapter {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface GpuDevice {
  createBuffer(descriptor: unknown): { destroy(): void };
}
interface WebGpuModule {
  globals: object;
  create(flags: string[]): { requestAdapter(): Promise<GpuAdapter | null> };
}
interface WebGpuContextClass {
  acquire(): Promise<{ device: GpuDevice }>;
  destroy(): Promise<void>;
}

const { ctlBuffer, port, gpujsPath, contextPath, webgpuUrl, probeOnly } = workerData as WebGpuWorkerData;
const requireFrom = createRequire(gpujsPath);
const ctl = new Int32Array(ctlBuffer);
let data: Float32Array<ArrayBufferLike> = new Float32Array(0);
let gpu: GpuClass | null = null;
let WebGPUContext: WebGpuContextClass | null = null;
const kernels = new Map<string, Kernel>();
const modeKernels = new Map<string, Kernel['kernel']>();
const results = new Map<number, BufferResult>();
let liveBuffers = 0;
// The error of a request that is not answered (a queued run, a buffer handover, a destroy), for the next reply.
let deferred: { error: string; stack?: string } | null = null;
// Kernels destroyed after a queued run of theirs failed, for the next reply.
let failed: string[] = [];

process.on('exit', () => {
  Atomics.store(ctl, DEAD, 1);
  Atomics.notify(ctl, DONE);
});

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function reply(seq: number, body: Partial<Reply>): void {
  const r: Reply = {
    seq,
    liveKernels: gpu ? (gpu as unknown as { kernels: unknown[] }).kernels.length : 0,
    deviceBuffers: liveBuffers,
    heldResults: results.size,
    ...(deferred && !body.error ? deferred : {}),
    ...(failed.length > 0 ? { failed } : {}),
    ...body,
  };
  port.postMessage(r);
  deferred = null;
  failed = [];
  Atomics.store(ctl, DONE, seq);
  Atomics.notify(ctl, DONE);
}

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software/i;

// Whether the dynamic linker finds a loadable libvulkan.so.1 (Dawn unloads it again when it found no
// driver). process.dlopen loads it, then rejects it for not being a Node addon: that rejection means it loaded.
function vulkanLoaderLoads(): boolean {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, 'libvulkan.so.1');
    return true;
  } catch (e) {
    return /did not self-register/.test(messageOf(e));
  }
}

// Why requestAdapter() gave nothing, read off the shared objects Dawn loaded into this process.
function noAdapterReason(): string {
  let maps = '';
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch (e) {
    // Not Linux (no /proc): the reason below is then the loader's, without the driver list.
    maps = `(no /proc/self/maps: ${messageOf(e)})`;
  }
  const icds = [...new Set(maps.match(/libvulkan_\w+\.so[.\d]*/g) ?? [])];
  if (!/libvulkan\.so/.test(maps) && !vulkanLoaderLoads()) {
    return 'requestAdapter() resolved null: no Vulkan loader (libvulkan.so.1) could be loaded; install libvulkan1 and a Vulkan driver (no GPU: Mesa 25 lavapipe, see README "WebGPU")';
  }
  if (icds.length === 0) {
    return 'requestAdapter() resolved null: the Vulkan loader found no driver (ICD); install one (no GPU: Mesa 25 lavapipe, see README "WebGPU"), or check VK_ICD_FILENAMES';
  }
  const lvp = icds.find((p) => /lvp/.test(p));
  return `requestAdapter() resolved null: Dawn rejected every Vulkan driver loaded (${icds.join(', ')})` +
    (lvp ? "; Debian 12's own lavapipe (Mesa 22.3) is too old for Dawn, Mesa 25 from bookworm-backports works (README \"WebGPU\")" : '');
}

async function init(): Promise<Partial<Reply>> {
  let api: WebGpuModule;
  try {
    api = (await import(webgpuUrl)) as WebGpuModule;
  } catch (e) {
    return { adapter: null, reason: `the webgpu package did not load: ${messageOf(e)}` };
  }
  const g = globalThis as unknown as { navigator?: object };
  Object.assign(globalThis, api.globals);
  if (!g.navigator) g.navigator = {};
  const gpuApi = api.create([]);
  Object.defineProperty(g.navigator, 'gpu', { value: gpuApi, configurable: true });
  const adapter = await gpuApi.requestAdapter();
  if (!adapter) return { adapter: null, reason: noAdapterReason() };
  const i = adapter.info ?? {};
  const info: AdapterInfo = {
    vendor: String(i.vendor ?? ''),
    architecture: String(i.architecture ?? ''),
    device: String(i.device ?? ''),
    description: String(i.description ?? ''),
    software: false,
  };
  info.software = Boolean(i.isFallbackAdapter || adapter.isFallbackAdapter) || SOFTWARE.test(`${info.architecture} ${info.device} ${info.description}`);
  if (probeOnly) return { adapter: info };
  WebGPUContext = (requireFrom(contextPath) as { WebGPUContext: WebGpuContextClass }).WebGPUContext;
  const { GPU } = requireFrom(gpujsPath) as { GPU: new (settings: object) => GpuClass };
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

function destroyKernel(key: string): void {
  const k = kernels.get(key);
  if (!k) return;
  kernels.delete(key);
  const own = modeKernels.get(key);
  modeKernels.delete(key);
  k.destroy();
  if (own && own !== k.kernel) own.destroy();
}

function argument(a: WireArg): Float32Array | BufferResult {
  if (a[0] === 0) return data.subarray(a[1], a[1] + a[2]);
  const r = results.get(a[1]);
  if (!r) throw new Error(`result ${a[1]} is not on the device (released?)`);
  return r;
}

type RunRequest = Extract<Request, { type: 'run' }>;

async function run(m: RunRequest): Promise<void> {
  try {
    await runKernel(m);
  } catch (e) {
    // A kernel that failed (or fell back) is not kept: the caller compiles it afresh next time.
    destroyKernel(m.key);
    if (m.seq === undefined) failed.push(m.key);
    const message = messageOf(e);
    const queued = m.seq === undefined ? ' (a queued run, reported by the next request that waits)' : '';
    throw new Error(message.startsWith("kernel '") ? `${message}${queued}` : `kernel '${m.name}'${queued}: ${message}`, { cause: e });
  }
}

async function runKernel(m: RunRequest): Promise<void> {
  let k = kernels.get(m.key);
  if (!k) {
    if (!gpu || m.source === undefined) throw new Error(`kernel '${m.name}' is not compiled and came without its source`);
    // gpu.js compiles kernels from their source text (kernels/*.ts), sent by the caller.
    const fn = new Function(`return (${m.source})`)() as (...args: unknown[]) => number;
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
    }) as Kernel;
    kernels.set(m.key, k);
    modeKernels.set(m.key, k.kernel);
  }
  const out = (await (k as unknown as (...args: unknown[]) => unknown)(...m.args.map(argument))) as BufferResult | null;
  const ran = k.kernel;
  if (ran.constructor.name !== 'WebGPUKernel') {
    throw new Error(`kernel '${m.name}' ran on ${ran.constructor.name} instead of WebGPUKernel (mode 'webgpu'): ${ran.fallbackReason ?? 'no reason given'}`);
  }
  if (!out || out.constructor.name !== 'WebGPUBufferResult') {
    throw new Error(`kernel '${m.name}' returned ${out?.constructor.name} instead of a WebGPUBufferResult`);
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

async function read(m: Extract<Request, { type: 'read' }>): Promise<void> {
  data.set(await (argument([1, m.id]) as BufferResult).toArray(), m.out);
}

function release(ids: number[]): void {
  for (const id of ids) {
    const r = results.get(id);
    results.delete(id);
    if (r) r.delete();
  }
}

async function dispose(): Promise<void> {
  release([...results.keys()]);
  for (const key of [...kernels.keys()]) destroyKernel(key);
  if (gpu) await gpu.destroy();
  if (WebGPUContext) await WebGPUContext.destroy();
}

async function handle(m: Request): Promise<void> {
  try {
    switch (m.type) {
      case 'buffer':
        data = new Float32Array(m.buffer);
        return;
      case 'destroy':
        destroyKernel(m.key);
        return;
      case 'release':
        release(m.ids);
        return;
      case 'init':
        reply(m.seq, await init());
        return;
      case 'run':
        await run(m);
        break;
      case 'read':
        await read(m);
        break;
      case 'stats':
      case 'sync':
        break;
      case 'dispose':
        await dispose();
        break;
      default:
        throw new Error(`unknown request ${(m as { type: string }).type}`);
    }
    if (m.seq !== undefined) reply(m.seq, {});
  } catch (e) {
    const failure = { error: messageOf(e), stack: e instanceof Error ? e.stack : undefined };
    if (m.seq === undefined) deferred = deferred ?? failure;
    else reply(m.seq, failure);
  }
}

let queue = Promise.resolve();
parentPort?.on('message', (m: Request) => {
  queue = queue.then(() => handle(m));
});
