import { GPU, type IKernelRunShortcut } from 'gpu.js';
import type { Conv2DInfo } from '../../geometry.js';
import type { ActivationKind, Backend, BatchNormTrainResult } from '../types.js';
import { conv2dBackpropFilter, conv2dBackpropInput, conv2dForward, type ConvConstants } from '../../../kernels/conv2d.js';
import { maxPoolArgmax, maxPoolBackprop, maxPoolForward, type PoolConstants } from '../../../kernels/max-pool.js';
import { matmul } from '../../../kernels/matmul.js';
import { biasAdd, channelDot, channelSum } from '../../../kernels/channel.js';
import { batchNormBackwardDx, batchNormInference, channelMean, channelVariance, inverseStd, normalize, scaleShift } from '../../../kernels/batch-norm.js';
import { activationBackward, activationForward, softmaxBackward, softmaxForward } from '../../../kernels/activation.js';
import { adamM, adamV, adamValue, multiply, rmspropMs, rmspropValue, sgd, sgdMomentum, sgdVelocity } from '../../../kernels/update.js';
import { probeMode, type GpuMode } from './probe.js';

/** Kernel codes of `kernels/activation.ts`. */
export const ACTIVATION_CODES: Record<Exclude<ActivationKind, 'softmax'>, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  sigmoid: 3,
  tanh: 4,
  leakyRelu: 5,
  elu: 6,
  selu: 7,
  softplus: 8,
  softsign: 9,
  swish: 10,
  hardSigmoid: 11,
};

/** Every kernel function the backend compiles, by name (the test checks their source text). */
export const KERNEL_FUNCTIONS = {
  conv2dForward,
  conv2dBackpropInput,
  conv2dBackpropFilter,
  maxPoolForward,
  maxPoolArgmax,
  maxPoolBackprop,
  matmul,
  biasAdd,
  channelSum,
  channelDot,
  channelMean,
  channelVariance,
  inverseStd,
  normalize,
  scaleShift,
  batchNormInference,
  batchNormBackwardDx,
  activationForward,
  activationBackward,
  softmaxForward,
  softmaxBackward,
  multiply,
  sgd,
  sgdVelocity,
  sgdMomentum,
  adamM,
  adamV,
  adamValue,
  rmspropMs,
  rmspropValue,
} as const;

type KernelName = keyof typeof KERNEL_FUNCTIONS;

/** Options of `createGpuBackend`. */
export interface GpuBackendOptions {
  /** gpu.js mode the kernels must run in. */
  mode: GpuMode;
  /** Compiled kernels kept alive (least recently used are destroyed beyond it); default 64. */
  maxKernels?: number;
}

/** The gpu.js backend: the `Backend` op table plus what tests and tools inspect. */
export interface GpuBackend extends Backend {
  readonly mode: GpuMode;
  /** Kernels alive in gpu.js (compiled and not destroyed), including argument-type switches. */
  liveKernels(): number;
  /** Destroys every kernel and the gpu.js instance. */
  dispose(): void;
}

/** The gpu.js kernel class each mode must run on; anything else is a fallback. */
const KERNEL_CLASS: Record<GpuMode, string> = { headlessgl: 'HeadlessGLKernel', webasm: 'WebAssemblyKernel' };

function convConstants(info: Conv2DInfo): ConvConstants {
  return {
    N: info.batch,
    H: info.inHeight,
    W: info.inWidth,
    C: info.inChannels,
    OH: info.outHeight,
    OW: info.outWidth,
    F: info.outChannels,
    KH: info.filterHeight,
    KW: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    pt: info.padTop,
    pl: info.padLeft,
  };
}

function poolConstants(info: Conv2DInfo): PoolConstants {
  return {
    H: info.inHeight,
    W: info.inWidth,
    C: info.inChannels,
    OH: info.outHeight,
    OW: info.outWidth,
    KH: info.filterHeight,
    KW: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    pt: info.padTop,
    pl: info.padLeft,
  };
}

/**
 * A backend that runs every op of the table as gpu.js kernels in one mode. Each op and shape compiles
 * one kernel (cached, least recently used destroyed beyond `maxKernels`); results are read back into
 * fresh `Float32Array`s after every kernel (no device-resident pipelining yet). A kernel that gpu.js
 * quietly ran in another mode throws.
 *
 * @example
 * const backend = createGpuBackend({ mode: 'webasm' });
 * backend.multiply(new Float32Array([1, 2]), new Float32Array([3, 4])); // Float32Array [3, 8]
 */
export function createGpuBackend(options: GpuBackendOptions): GpuBackend {
  const { mode } = options;
  const maxKernels = options.maxKernels ?? 64;
  if (!(mode in KERNEL_CLASS)) throw new Error(`gpu backend: unknown mode '${String(mode)}'; known: ${Object.keys(KERNEL_CLASS).join(', ')}`);
  if (!Number.isInteger(maxKernels) || maxKernels < 1) throw new Error(`gpu backend: maxKernels must be a positive integer, got ${maxKernels}`);
  const status = probeMode(mode);
  if (!status.available) throw new Error(`gpu backend: mode '${mode}' cannot start here: ${status.reason}`);
  const gpu = new GPU({ mode });
  const cache = new Map<string, IKernelRunShortcut>();
  /** The kernel gpu.js built each shortcut on, in this mode: a fallback swaps another into the shortcut. */
  const modeKernel = new WeakMap<IKernelRunShortcut, { destroy(): void }>();

  function kernel(key: string, name: KernelName, size: number, constants: object): IKernelRunShortcut {
    let k = cache.get(key);
    if (k) {
      cache.delete(key);
      cache.set(key, k);
      return k;
    }
    k = gpu.createKernel(KERNEL_FUNCTIONS[name] as never, {
      output: [size],
      constants: constants as Record<string, number>,
      precision: 'single',
      tactic: 'precision',
      optimizeFloatMemory: false,
      dynamicOutput: false,
      dynamicArguments: false,
    });
    modeKernel.set(k, k.kernel as { destroy(): void });
    cache.set(key, k);
    while (cache.size > maxKernels) {
      const [oldKey, old] = cache.entries().next().value as [string, IKernelRunShortcut];
      cache.delete(oldKey);
      old.destroy();
    }
    return k;
  }

  function run(name: KernelName, size: number, constants: object, ...args: Float32Array[]): Float32Array {
    if (size === 0) return new Float32Array(0);
    const key = `${name}|${size}|${JSON.stringify(constants)}`;
    const k = kernel(key, name, size, constants);
    const out = k(...args) as Float32Array;
    const ran = (k.kernel as { constructor: { name: string }; fallbackReason?: string | null }) ?? null;
    if (ran.constructor.name !== KERNEL_CLASS[mode]) {
      // gpu.js swapped its CPU kernel into the shortcut for good: drop it from the cache (a later call of
      // this op and shape compiles afresh in the mode), and destroy the mode's kernel it replaced, which
      // gpu.js still holds.
      cache.delete(key);
      k.destroy();
      modeKernel.get(k)?.destroy();
      throw new Error(
        `gpu backend: kernel '${name}' ran on ${ran.constructor.name} instead of ${KERNEL_CLASS[mode]} (mode '${mode}'): ${ran.fallbackReason ?? 'no reason given'}`,
      );
    }
    return Float32Array.from(out);
  }

  const h1 = (a: number) => Float32Array.of(a);
  const h2 = (a: number, b: number) => Float32Array.of(a, b);
  const poolInfo = new WeakMap<Int32Array, Conv2DInfo>();

  const backend: GpuBackend = {
    name: `gpu:${mode}`,
    mode,

    matmul(a, b, m, k, n, transA, transB) {
      return run('matmul', m * n, { M: m, K: k, N: n, tA: transA ? 1 : 0, tB: transB ? 1 : 0 }, a, b);
    },

    conv2d(x, w, info) {
      return run('conv2dForward', info.batch * info.outHeight * info.outWidth * info.outChannels, convConstants(info), x, w);
    },

    conv2dBackpropInput(dy, w, info) {
      return run('conv2dBackpropInput', info.batch * info.inHeight * info.inWidth * info.inChannels, convConstants(info), dy, w);
    },

    conv2dBackpropFilter(x, dy, info) {
      return run('conv2dBackpropFilter', info.filterHeight * info.filterWidth * info.inChannels * info.outChannels, convConstants(info), x, dy);
    },

    biasAdd(x, bias, channels) {
      return run('biasAdd', x.length, { C: channels, rows: x.length / channels }, x, bias);
    },

    biasGrad(dy, channels) {
      return run('channelSum', channels, { C: channels, rows: dy.length / channels }, dy);
    },

    maxPool(x, info) {
      const size = info.batch * info.outHeight * info.outWidth * info.inChannels;
      const c = poolConstants(info);
      const y = run('maxPoolForward', size, c, x);
      const argmax = Int32Array.from(run('maxPoolArgmax', size, c, x));
      poolInfo.set(argmax, info);
      return { y, argmax };
    },

    maxPoolBackprop(dy, argmax, inputSize) {
      const info = poolInfo.get(argmax);
      if (!info) {
        // An argmax this backend did not produce has no geometry to gather with: scatter on the host.
        const dx = new Float32Array(inputSize);
        for (let i = 0; i < dy.length; i++) if (argmax[i] >= 0) dx[argmax[i]] += dy[i];
        return dx;
      }
      return run('maxPoolBackprop', inputSize, poolConstants(info), dy, Float32Array.from(argmax));
    },

    batchNormTrain(x, gamma, beta, channels, epsilon): BatchNormTrainResult {
      const c = { C: channels, rows: x.length / channels };
      const mean = run('channelMean', channels, c, x);
      const variance = run('channelVariance', channels, c, x, mean);
      const invStd = run('inverseStd', channels, c, variance, h1(epsilon));
      const xHat = run('normalize', x.length, c, x, mean, invStd);
      const y = run('scaleShift', x.length, c, xHat, gamma, beta);
      return { y, mean, variance, xHat, invStd };
    },

    batchNormInference(x, gamma, beta, mean, variance, channels, epsilon) {
      return run('batchNormInference', x.length, { C: channels, rows: x.length / channels }, x, gamma, beta, mean, variance, h1(epsilon));
    },

    batchNormBackward(dy, xHat, gamma, invStd, channels) {
      const c = { C: channels, rows: dy.length / channels };
      const dBeta = run('channelSum', channels, c, dy);
      const dGamma = run('channelDot', channels, c, dy, xHat);
      const dx = run('batchNormBackwardDx', dy.length, c, dy, xHat, gamma, invStd, dBeta, dGamma);
      return { dx, dGamma, dBeta };
    },

    activation(kind, x, channels, alpha) {
      if (kind === 'softmax') return run('softmaxForward', x.length, { C: channels }, x);
      return run('activationForward', x.length, { kind: ACTIVATION_CODES[kind] }, x, h1(alpha));
    },

    activationBackward(kind, dy, x, y, channels, alpha) {
      if (kind === 'softmax') return run('softmaxBackward', dy.length, { C: channels }, dy, y);
      return run('activationBackward', dy.length, { kind: ACTIVATION_CODES[kind] }, dy, x, y, h1(alpha));
    },

    multiply(a, b) {
      return run('multiply', a.length, { nesterov: 0 }, a, b);
    },

    sgdUpdate(value, grad, velocity, lr, momentum, nesterov) {
      const n = value.length;
      if (!velocity || momentum === 0) {
        value.set(run('sgd', n, { nesterov: 0 }, value, grad, h1(lr)));
        return;
      }
      const h = h2(lr, momentum);
      const v = run('sgdVelocity', n, { nesterov: 0 }, velocity, grad, h);
      value.set(run('sgdMomentum', n, { nesterov: nesterov ? 1 : 0 }, value, grad, v, h));
      velocity.set(v);
    },

    adamUpdate(value, grad, m, v, lr, beta1, beta2, epsilon, step) {
      const n = value.length;
      const alpha = (lr * Math.sqrt(1 - Math.pow(beta2, step))) / (1 - Math.pow(beta1, step));
      const m2 = run('adamM', n, { nesterov: 0 }, m, grad, h1(beta1));
      const v2 = run('adamV', n, { nesterov: 0 }, v, grad, h1(beta2));
      value.set(run('adamValue', n, { nesterov: 0 }, value, m2, v2, h2(alpha, epsilon)));
      m.set(m2);
      v.set(v2);
    },

    rmspropUpdate(value, grad, ms, lr, rho, epsilon) {
      const n = value.length;
      const s = run('rmspropMs', n, { nesterov: 0 }, ms, grad, h1(rho));
      value.set(run('rmspropValue', n, { nesterov: 0 }, value, grad, s, h2(lr, epsilon)));
      ms.set(s);
    },

    liveKernels() {
      return (gpu as unknown as { kernels: unknown[] }).kernels.length;
    },

    dispose() {
      for (const k of cache.values()) k.destroy();
      cache.clear();
      void gpu.destroy();
    },
  };
  return backend;
}
