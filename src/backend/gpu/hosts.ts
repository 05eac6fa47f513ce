// Where the gpu backend's kernels compile and run: gpu.js on this thread ('headlessgl', 'webasm') or in
// the WebGPU device worker ('webgpu'), behind one KernelHost interface.
import type { IKernelRunShortcut, Texture } from 'gpu.js';
import { gpujs, kernelClass } from './gpujs.js';
import { KERNEL_FUNCTIONS, type KernelName } from './kernel-table.js';
import type { GpuMode } from './probe.js';
import { DeviceResult, type WebGpuWorker } from './webgpu-worker.js';

/** The gpu.js kernel class each mode must run on; anything else is a fallback. */
export const KERNEL_CLASS: Record<GpuMode, string> = {
  headlessgl: 'HeadlessGLKernel',
  webasm: 'WebAssemblyKernel',
  webgpu: 'WebGPUKernel',
  webgl2: 'WebGL2Kernel',
  webgl: 'WebGLKernel',
};

/**
 * A kernel's result: an array on the host, a gpu.js texture in 'headlessgl' (pipeline mode), or a buffer
 * the 'webgpu' device worker keeps.
 */
export type Value = Float32Array | Texture | DeviceResult;

/**
 * Where kernels compile and run: gpu.js on this thread ('headlessgl', 'webasm'), or gpu.js in a worker that
 * owns a WebGPU device ('webgpu'). The backend's ops, kernel cache and counters are the same for both.
 */
export interface KernelHost {
  /** Kernel results can stay on the device between the kernels of one op. */
  readonly pipeline: boolean;
  /**
   * Runs kernel `key`, compiling `name` for output `size` and `constants` on its first run. `keep`: the
   * result may stay on the device (pipeline hosts); else it comes back as an array. Throws when gpu.js ran
   * it anywhere but the mode's kernel class.
   */
  run(key: string, name: KernelName, size: number, constants: object, args: Value[], keep: boolean): Value;
  /** Reads a result kept on the device back. */
  read(value: Texture | DeviceResult): Float32Array;
  /** Ends an op: deletes the results it kept on the device. */
  release(): void;
  /** Takes a result the running op kept on the device out of {@link release}: it lives until {@link free}. */
  retain(value: Texture | DeviceResult): void;
  /** Deletes a result {@link retain} kept. */
  free(value: Texture | DeviceResult): void;
  /** Destroys kernel `key`, if compiled. */
  destroy(key: string): void;
  /** The gpu.js kernel classes kernels ran on so far, by gpu.js' names (only the mode's: any other throws in {@link run}). */
  kernelClasses(): string[];
  counts(): { liveKernels: number; liveTextures: number; deviceTextures: number; deviceBuffers: number; roundTrips: number };
  dispose(): void;
}

/** The slice of a WebGL context whose texture calls the backend counts. */
interface TextureContext {
  createTexture(): object | null;
  deleteTexture(texture: object | null): void;
}

/** The name gpu.js' module gives a kernel class (a minified gpu.js renames the classes themselves). */
function className(mod: ReturnType<typeof gpujs>, ran: { constructor: { name: string } }): string {
  for (const name of ['CPUKernel', ...Object.values(KERNEL_CLASS)]) if (kernelClass(mod, name) === ran.constructor) return name;
  return ran.constructor.name;
}

/**
 * gpu.js on this thread, in a synchronous mode. In the GL modes ('headlessgl', and 'webgl2'/'webgl' in a
 * browser) results stay on the device as textures (pipeline).
 */
export function localHost(mode: Exclude<GpuMode, 'webgpu'>): KernelHost {
  const pipeline = mode !== 'webasm';
  const mod = gpujs();
  const { GPU } = mod;
  const expected = kernelClass(mod, KERNEL_CLASS[mode]);
  if (!expected) throw new Error(`gpu backend: this gpu.js has no ${KERNEL_CLASS[mode]} (mode '${mode}'); tscnn needs gpu.js ^2.24`);
  const gpu = new GPU({ mode });
  const kernels = new Map<string, IKernelRunShortcut>();
  /** The kernel gpu.js built each shortcut on, in this mode: a fallback swaps another into the shortcut. */
  const modeKernel = new Map<string, { destroy(): void }>();
  /** Textures the running op got from its kernels; all deleted when it ends. */
  const held: Texture[] = [];
  /** Classes kernels ran on, as found by identity in gpu.js' exports. */
  const ranOn = new Set<string>();
  /** GL textures alive in the shared headless GL context, once the first kernel made it. */
  let glTextures: Set<object> | null = null;

  // gpu.js has no count of the textures it keeps (kernel outputs, argument uploads), so the backend's
  // own context counts its createTexture/deleteTexture calls.
  function trackTextures(context: TextureContext | undefined): void {
    if (!pipeline || glTextures || !context) return;
    const live = (glTextures = new Set());
    const create = context.createTexture.bind(context);
    const remove = context.deleteTexture.bind(context);
    context.createTexture = () => {
      const texture = create();
      if (texture) live.add(texture);
      return texture;
    };
    context.deleteTexture = (texture) => {
      if (texture) live.delete(texture);
      remove(texture);
    };
  }

  return {
    pipeline,

    run(key, name, size, constants, args) {
      let k = kernels.get(key);
      if (!k) {
        k = gpu.createKernel(KERNEL_FUNCTIONS[name] as never, {
          output: [size],
          constants: constants as Record<string, number>,
          precision: 'single',
          tactic: 'precision',
          optimizeFloatMemory: false,
          dynamicOutput: false,
          dynamicArguments: false,
          // immutable: each call hands out its own reference to the output texture, so a later call of the
          // same kernel renders into a fresh texture instead of overwriting one still in use.
          pipeline,
          immutable: pipeline,
        });
        trackTextures((k.kernel as { context?: TextureContext }).context);
        modeKernel.set(key, k.kernel as { destroy(): void });
        kernels.set(key, k);
      }
      const out = k(...(args as (Float32Array | Texture)[])) as Float32Array | Texture;
      const ran = k.kernel as { constructor: { name: string }; fallbackReason?: string | null };
      // The exact class: WebGL2Kernel and HeadlessGLKernel extend WebGLKernel.
      if (Object.getPrototypeOf(ran) !== expected.prototype) {
        // gpu.js swapped its CPU kernel into the shortcut for good; the backend destroys both (destroy(key)).
        throw new Error(
          `gpu backend: kernel '${name}' ran on ${className(mod, ran)} instead of ${KERNEL_CLASS[mode]} (mode '${mode}'): ${ran.fallbackReason ?? 'no reason given'}`,
        );
      }
      ranOn.add(className(mod, ran));
      if (out instanceof Float32Array) return Float32Array.from(out);
      held.push(out);
      return out;
    },

    read(value) {
      // A single-precision 1-D texture reads back as a fresh Float32Array of the output length.
      return (value as Texture).toArray() as Float32Array;
    },

    release() {
      for (const texture of held) texture.delete();
      held.length = 0;
    },

    retain(value) {
      const at = held.indexOf(value as Texture);
      if (at >= 0) held.splice(at, 1);
    },

    free(value) {
      (value as Texture).delete();
    },

    destroy(key) {
      const k = kernels.get(key);
      if (!k) return;
      const own = modeKernel.get(key);
      kernels.delete(key);
      modeKernel.delete(key);
      const current = k.kernel;
      k.destroy();
      // After a fallback the shortcut holds gpu.js's CPU kernel; the mode's kernel it replaced is still alive.
      if (own && own !== current) own.destroy();
    },

    kernelClasses() {
      return [...ranOn];
    },

    counts() {
      return {
        liveKernels: (gpu as unknown as { kernels: unknown[] }).kernels.length,
        liveTextures: held.length,
        deviceTextures: glTextures?.size ?? 0,
        deviceBuffers: 0,
        roundTrips: 0,
      };
    },

    dispose() {
      this.release();
      for (const key of [...kernels.keys()]) this.destroy(key);
      void gpu.destroy();
    },
  };
}

/**
 * gpu.js 'webgpu' in a worker thread that owns the device (see webgpu-worker.ts): kernel runs are queued
 * without waiting once compiled; a readback (and a kernel's first run) is one blocking round trip, after
 * which everything queued before it has run. Results stay on the device as the worker's buffers.
 */
export function webGpuHost(worker: WebGpuWorker): KernelHost {
  const held: DeviceResult[] = [];
  let final: ReturnType<KernelHost['counts']> | null = null;
  return {
    pipeline: true,

    run(key, name, size, constants, args, keep) {
      const out = worker.run(key, name, KERNEL_FUNCTIONS[name].toString(), size, constants, args as (Float32Array | DeviceResult)[], keep);
      if (out instanceof DeviceResult) held.push(out);
      return out;
    },

    read(value) {
      return worker.read(value as DeviceResult);
    },

    release() {
      worker.release(held);
      held.length = 0;
    },

    retain(value) {
      const at = held.indexOf(value as DeviceResult);
      if (at >= 0) held.splice(at, 1);
    },

    free(value) {
      if (!final) worker.release([value as DeviceResult]);
    },

    destroy(key) {
      worker.destroy(key);
    },

    kernelClasses() {
      // The device worker throws for any kernel gpu.js ran on another class (webgpu-device-worker.ts).
      return worker.roundTrips > 0 ? ['WebGPUKernel'] : [];
    },

    counts() {
      if (final) return final;
      const s = worker.stats();
      return { liveKernels: s.liveKernels, liveTextures: held.length, deviceTextures: 0, deviceBuffers: s.deviceBuffers, roundTrips: worker.roundTrips };
    },

    dispose() {
      if (final) return;
      held.length = 0;
      const roundTrips = worker.roundTrips;
      try {
        worker.dispose();
      } finally {
        // The device is destroyed with everything on it; the worker is gone.
        final = { liveKernels: 0, liveTextures: 0, deviceTextures: 0, deviceBuffers: 0, roundTrips };
      }
    },
  };
}
