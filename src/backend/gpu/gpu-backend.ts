import type { Conv2DInfo } from '../../geometry.js';
import type { Backend, BatchNormActPoolResult, BatchNormTrainResult, FusedBatchNormOps, FusedConvOps } from '../types.js';
import { KERNEL_CLASS, localHost, webGpuHost, type Value } from './hosts.js';
import { ACTIVATION_CODES, convConstants, depthwiseConstants, padConstants, poolConstants, type KernelName } from './kernel-table.js';
import { probeMode, type GpuMode } from './probe.js';
import { startWebGpuWorker } from './webgpu-worker.js';

export { ACTIVATION_CODES, KERNEL_FUNCTIONS } from './kernel-table.js';

/** Options of `createGpuBackend`. */
export interface GpuBackendOptions {
  /** gpu.js mode the kernels must run in. */
  mode: GpuMode;
  /**
   * Compiled kernels kept alive (least recently used are destroyed beyond it); default 128. The seed
   * model needs 72–81 per training step: at 64 the cache thrashed and recompiled ~70 kernels every
   * step (4× slower on headlessgl, 2× on webasm, measured at 32×32 batch 8; RSS 178 vs 184 MB).
   */
  maxKernels?: number;
}

/** Device traffic of a gpu backend: cumulative counts since it was made, and what it holds now. */
export interface GpuStats {
  /** Kernel results on the device (headlessgl textures, webgpu buffers) the running op holds; 0 between ops. */
  liveTextures: number;
  /** GL textures alive in the backend's headless GL context (kernel outputs and argument textures); 0 in other modes. */
  deviceTextures: number;
  /** GPU buffers alive on the backend's WebGPU device (kernel outputs, arguments, uniforms, staging); 0 in other modes. */
  deviceBuffers: number;
  /** Kernel calls. */
  kernelRuns: number;
  /** Kernels compiled (a count that keeps growing in a steady loop means the kernel cache thrashes). */
  kernelsCompiled: number;
  /** Arrays copied from the host to the device (kernel arguments), and their bytes (the array's, not the padded texture's). */
  uploads: number;
  uploadBytes: number;
  /** Arrays copied from the device back to the host, and their bytes. */
  readbacks: number;
  readbackBytes: number;
  /** 'webgpu': requests to the device worker, each one blocking round trip (a kernel run or a readback). 0 in other modes. */
  workerRoundTrips: number;
}

/** The gpu.js backend: the `Backend` op table plus what tests and tools inspect. */
export interface GpuBackend extends Backend {
  readonly mode: GpuMode;
  /** Kernels alive in gpu.js (compiled and not destroyed), including argument-type switches. */
  liveKernels(): number;
  /** Device traffic so far and device memory held now. */
  stats(): GpuStats;
  /** Destroys every kernel, texture and the gpu.js instance ('webgpu': also the device, and ends its worker). */
  dispose(): void;
}

/**
 * A backend that runs every op of the table as gpu.js kernels in one mode. Each op and shape compiles
 * one kernel (cached, least recently used destroyed beyond `maxKernels`). In 'headlessgl' the kernels
 * run in gpu.js pipeline mode: inside one op, results pass from kernel to kernel as textures, an input
 * several kernels read is uploaded once, and only what the op returns is read back (results an op
 * returns together come out of one kernel, packed, and are read back at once); every texture is deleted
 * when the op ends. 'webgpu' does the same with device buffers, in a worker thread that owns the WebGPU
 * device (gpu.js's WebGPU kernels are asynchronous): each kernel run and each readback is one round trip
 * to it, the calling thread blocking until it is done. In 'webasm' there is no device memory: each
 * kernel's result is copied out. The op table is synchronous on `Float32Array`, so nothing stays on the
 * device between ops. A kernel that gpu.js quietly ran in another mode throws.
 *
 * The fused ops (`fused.conv`, `fused.batchNormActPool`) chain the same kernels inside one op: conv.conv2d is conv2dForward → biasAdd →
 * relu, the pooled forms add maxPool ([y | argmax]); their backward gathers the pooled gradient onto the
 * argmax cells (maxPoolBackprop, after relu' read off the pooled values), then runs the input gradient,
 * filter gradient and channelSum it needs. batchNormActPool.train is channelMean → channelStats →
 * normalizeAct → maxPool, its backward normalizedReluMask → maxPoolBackprop → normalizeAct (x̂ from x, mean
 * and invStd) → channelSumDot → batchNormBackwardDx. In pipeline mode each reads back one array (pack2,
 * pack3 put the results side by side). The pooled backward ops gather with the pool geometry of an argmax
 * this backend returned; for any other argmax the pooled gradient is scattered on the host.
 *
 * @example
 * const backend = createGpuBackend({ mode: 'webasm' });
 * backend.multiply(new Float32Array([1, 2]), new Float32Array([3, 4])); // Float32Array [3, 8]
 * backend.stats().readbacks; // 1
 */
export function createGpuBackend(options: GpuBackendOptions): GpuBackend {
  const { mode } = options;
  const maxKernels = options.maxKernels ?? 128;
  if (!(mode in KERNEL_CLASS)) throw new Error(`gpu backend: unknown mode '${String(mode)}'; known: ${Object.keys(KERNEL_CLASS).join(', ')}`);
  if (!Number.isInteger(maxKernels) || maxKernels < 1) throw new Error(`gpu backend: maxKernels must be a positive integer, got ${maxKernels}`);
  const status = probeMode(mode);
  if (!status.available) throw new Error(`gpu backend: mode '${mode}' cannot start here: ${status.reason}`);
  const host = mode === 'webgpu' ? webGpuHost(startWebGpuWorker()) : localHost(mode);
  const pipeline = host.pipeline;
  /** Compiled kernels by key, least recently used first. */
  const cache = new Set<string>();
  const counts = { kernelRuns: 0, kernelsCompiled: 0, uploads: 0, uploadBytes: 0, readbacks: 0, readbackBytes: 0 };

  /** Ends an op: deletes its device results, then destroys kernels beyond the cap (never mid-op, when an evicted kernel would take a result still in use with it). */
  function release(): void {
    host.release();
    while (cache.size > maxKernels) {
      const oldKey = cache.values().next().value as string;
      cache.delete(oldKey);
      host.destroy(oldKey);
    }
  }

  function op<T>(body: () => T): T {
    try {
      return body();
    } finally {
      release();
    }
  }

  function exec(name: KernelName, size: number, constants: object, args: Value[], keep: boolean): Value {
    if (size === 0) return new Float32Array(0);
    // Argument kinds are part of the key: a kernel called with a texture where it was built for an array
    // would make gpu.js compile and keep a second kernel behind the same shortcut.
    const kinds = args.map((a) => (a instanceof Float32Array ? 'a' : 't')).join('');
    const key = `${name}|${size}|${kinds}|${JSON.stringify(constants)}`;
    if (cache.delete(key)) cache.add(key);
    else {
      cache.add(key);
      counts.kernelsCompiled++;
    }
    for (const a of args) {
      if (a instanceof Float32Array) {
        counts.uploads++;
        counts.uploadBytes += a.byteLength;
      }
    }
    counts.kernelRuns++;
    let out: Value;
    try {
      out = host.run(key, name, size, constants, args, keep);
    } catch (e) {
      // A kernel that failed or fell back is dropped: a later call of this op and shape compiles afresh in the mode.
      cache.delete(key);
      host.destroy(key);
      throw e;
    }
    return out instanceof Float32Array ? counted(out) : out;
  }

  /** Runs a kernel whose result may stay on the device for the op's next kernels. */
  function run(name: KernelName, size: number, constants: object, ...args: Value[]): Value {
    return exec(name, size, constants, args, true);
  }

  /** Runs a kernel whose result the op returns: read back at once ('webgpu': in the same round trip). */
  function runRead(name: KernelName, size: number, constants: object, ...args: Value[]): Float32Array {
    return read(exec(name, size, constants, args, false));
  }

  function counted(array: Float32Array): Float32Array {
    counts.readbacks++;
    counts.readbackBytes += array.byteLength;
    return array;
  }

  /** The value on the host: reads a device result back (an array was read back, and counted, when its kernel ran). */
  function read(value: Value): Float32Array {
    if (value instanceof Float32Array) return value;
    return counted(host.read(value));
  }

  /** An input several kernels of one op read: uploaded once in pipeline mode. */
  function share(x: Float32Array): Value {
    return pipeline ? run('copy', x.length, { n: x.length }, x) : x;
  }

  const h1 = (a: number) => Float32Array.of(a);
  const poolInfo = new WeakMap<Int32Array, Conv2DInfo>();
  const single = (name: KernelName, size: number, constants: object, ...args: Float32Array[]) => op(() => runRead(name, size, constants, ...args));

  /**
   * Results an op returns together, as [value, length] pairs, on the host. In pipeline mode the ones on the
   * device come out of one pack kernel and are read back at once; in 'webasm' each is already an array.
   */
  function readAll(parts: [Value, number][]): Float32Array[] {
    const device = parts.filter(([v]) => !(v instanceof Float32Array));
    if (device.length < 2) return parts.map(([v]) => read(v));
    if (device.length > 3) throw new Error(`gpu backend: cannot pack ${device.length} results into one readback`);
    const [[a, A], [b, B]] = device;
    const total = device.reduce((sum, [, n]) => sum + n, 0);
    const packed = device.length === 2 ? runRead('pack2', total, { A, B }, a, b) : runRead('pack3', total, { A, B }, a, b, device[2][0]);
    const out = new Map<Value, Float32Array>();
    let at = 0;
    for (const [v, n] of device) {
      out.set(v, packed.slice(at, at + n));
      at += n;
    }
    return parts.map(([v]) => (v instanceof Float32Array ? v : out.get(v)!));
  }

  /** act(conv2d(x, w) + bias): read back when `keep` is false, else left on the device in pipeline mode. */
  function convBiasAct(
    x: Float32Array, w: Float32Array, bias: Float32Array | null, info: Conv2DInfo, activation: 'linear' | 'relu', keep: boolean,
  ): Value {
    const n = info.batch * info.outHeight * info.outWidth * info.outChannels;
    const relu = activation === 'relu';
    let z = exec('conv2dForward', n, convConstants(info), [x, w], keep || !!bias || relu);
    if (bias) z = exec('biasAdd', n, { C: info.outChannels, rows: n / info.outChannels }, [z, bias], keep || relu);
    if (relu) z = exec('activationForward', n, { kind: ACTIVATION_CODES.relu }, [z, h1(0)], keep);
    return z;
  }

  /** The gradients of a convolution from dz (its output's gradient) that `need` asks for, read back at once. */
  function convGrads(
    x: Float32Array, w: Float32Array, dz: Value, info: Conv2DInfo, need: { dx: boolean; dw: boolean; db: boolean },
  ): { dx: Float32Array | null; dw: Float32Array | null; db: Float32Array | null } {
    const F = info.outChannels;
    const c = convConstants(info);
    const rows = info.batch * info.outHeight * info.outWidth;
    const jobs: ['dx' | 'dw' | 'db', KernelName, number, object, Value[]][] = [];
    if (need.dx) jobs.push(['dx', 'conv2dBackpropInput', info.batch * info.inHeight * info.inWidth * info.inChannels, c, [dz, w]]);
    if (need.dw) jobs.push(['dw', 'conv2dBackpropFilter', info.filterHeight * info.filterWidth * info.inChannels * F, c, [x, dz]]);
    if (need.db) jobs.push(['db', 'channelSum', F, { C: F, rows }, [dz]]);
    const result: { dx: Float32Array | null; dw: Float32Array | null; db: Float32Array | null } = { dx: null, dw: null, db: null };
    if (jobs.length === 1) {
      const [key, name, size, constants, args] = jobs[0];
      result[key] = runRead(name, size, constants, ...args);
      return result;
    }
    const got = readAll(jobs.map(([, name, size, constants, args]) => [run(name, size, constants, ...args), size]));
    jobs.forEach(([key], i) => (result[key] = got[i]));
    return result;
  }

  /** relu'(y)·dy where y > 0 (the forward's output or the pooled value), else dy. */
  function reluMask(dy: Value, y: Float32Array, activation: 'linear' | 'relu'): Value {
    if (activation === 'linear') return dy;
    return run('activationBackward', y.length, { kind: ACTIVATION_CODES.relu }, dy, y, y, h1(0));
  }

  const fusedConv: FusedConvOps = {
    conv2d(x, w, bias, info, activation) {
          return op(() => read(convBiasAct(x, w, bias, info, activation, false)));
        },

        conv2dBackward(x, w, dy, y, info, activation, need) {
          return op(() => {
            const uses = Number(need.dx) + Number(need.dw) + Number(need.db);
            if (uses === 0) return { dx: null, dw: null, db: null };
            const dz = activation === 'relu' ? reluMask(dy, y, activation) : uses > 1 ? share(dy) : dy;
            return convGrads(x, w, dz, info, need);
          });
        },

        conv2dMaxPool(x, w, bias, info, activation, pool) {
          return op(() => {
            const c = poolConstants(pool);
            // An output of S (not 2·S) threads runs only maxPool's first half: the pooled values, no argmax.
            return runRead('maxPool', c.S, c, convBiasAct(x, w, bias, info, activation, true));
          });
        },

        conv2dMaxPoolTrain(x, w, bias, info, activation, pool) {
          const c = poolConstants(pool);
          const both = op(() => runRead('maxPool', 2 * c.S, c, convBiasAct(x, w, bias, info, activation, true)));
          const argmax = Int32Array.from(both.subarray(c.S));
          poolInfo.set(argmax, pool);
          return { y: both.slice(0, c.S), argmax };
        },

        conv2dMaxPoolBackward(x, w, dy, y, argmax, info, activation, need) {
          return op(() => {
            if (!need.dx && !need.dw && !need.db) return { dx: null, dw: null, db: null };
            const pool = poolInfo.get(argmax);
            const n = info.batch * info.outHeight * info.outWidth * info.outChannels;
            let dz: Value;
            if (pool) {
              dz = run('maxPoolBackprop', n, poolConstants(pool), reluMask(dy, y, activation), Float32Array.from(argmax));
            } else {
              // An argmax this backend did not produce has no pool geometry to gather with: scatter on the host.
              const host = new Float32Array(n);
              for (let i = 0; i < dy.length; i++) if (argmax[i] >= 0 && (activation === 'linear' || y[i] > 0)) host[argmax[i]] = dy[i];
              dz = share(host);
            }
            return convGrads(x, w, dz, info, need);
          });
        },
  };

  const fusedBatchNorm: FusedBatchNormOps = {
    train(x, gamma, beta, channels, epsilon, activation, pool): BatchNormActPoolResult {
          const p = poolConstants(pool);
          const [both, s] = op(() => {
            const c = { C: channels, rows: x.length / channels };
            const xs = share(x);
            const mean = run('channelMean', channels, c, xs);
            const stats = run('channelStats', 3 * channels, c, xs, mean, h1(epsilon));
            const z = run('normalizeAct', x.length, { ...c, act: activation === 'relu' ? 2 : 1 }, xs, stats, gamma, beta);
            return readAll([
              [run('maxPool', 2 * p.S, p, z), 2 * p.S],
              [stats, 3 * channels],
            ]);
          });
          const argmax = Int32Array.from(both.subarray(p.S));
          poolInfo.set(argmax, pool);
          return {
            y: both.slice(0, p.S),
            argmax,
            mean: s.slice(0, channels),
            variance: s.slice(channels, 2 * channels),
            invStd: s.slice(2 * channels),
          };
        },

        backward(dy, x, gamma, beta, mean, invStd, argmax, channels, activation, pool) {
          const [dx, sums] = op(() => {
            const n = x.length;
            const c = { C: channels, rows: n / channels };
            // The layout channelStats gives [mean | variance | invStd]; the kernels here read no variance.
            const stats = new Float32Array(3 * channels);
            stats.set(mean);
            stats.set(invStd, 2 * channels);
            const relu = activation === 'relu';
            // x and argmax are read by two kernels with relu (uploaded once); per-channel arrays are uploaded per kernel.
            const xs = relu ? share(x) : x;
            const am = relu ? share(Float32Array.from(argmax)) : Float32Array.from(argmax);
            const dyMasked = relu ? run('normalizedReluMask', dy.length, c, dy, am, xs, stats, gamma, beta) : dy;
            const d = run('maxPoolBackprop', n, poolConstants(pool), dyMasked, am);
            const xHat = run('normalizeAct', n, { ...c, act: 0 }, xs, stats, gamma, beta);
            const sums = run('channelSumDot', 2 * channels, c, d, xHat);
            return readAll([
              [run('batchNormBackwardDx', n, c, d, xHat, gamma, invStd, sums), n],
              [sums, 2 * channels],
            ]);
          });
          return { dx, dBeta: sums.slice(0, channels), dGamma: sums.slice(channels) };
        },
  };

  const backend: GpuBackend = {
    name: `gpu:${mode}`,
    mode,
    fused: { conv: fusedConv, batchNormActPool: fusedBatchNorm },

    matmul(a, b, m, k, n, transA, transB) {
      return single('matmul', m * n, { M: m, K: k, N: n, tA: transA ? 1 : 0, tB: transB ? 1 : 0 }, a, b);
    },

    conv2d(x, w, info) {
      return single('conv2dForward', info.batch * info.outHeight * info.outWidth * info.outChannels, convConstants(info), x, w);
    },

    conv2dBackpropInput(dy, w, info) {
      return single('conv2dBackpropInput', info.batch * info.inHeight * info.inWidth * info.inChannels, convConstants(info), dy, w);
    },

    conv2dBackpropFilter(x, dy, info) {
      return single('conv2dBackpropFilter', info.filterHeight * info.filterWidth * info.inChannels * info.outChannels, convConstants(info), x, dy);
    },

    biasAdd(x, bias, channels) {
      return single('biasAdd', x.length, { C: channels, rows: x.length / channels }, x, bias);
    },

    biasGrad(dy, channels) {
      return single('channelSum', channels, { C: channels, rows: dy.length / channels }, dy);
    },

    maxPool(x, info) {
      const c = poolConstants(info);
      const both = single('maxPool', 2 * c.S, c, x);
      const y = both.slice(0, c.S);
      const argmax = Int32Array.from(both.subarray(c.S));
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
      return single('maxPoolBackprop', inputSize, poolConstants(info), dy, Float32Array.from(argmax));
    },

    avgPool(x, info) {
      return single('avgPool', info.batch * info.outHeight * info.outWidth * info.inChannels, poolConstants(info), x);
    },

    avgPoolBackprop(dy, info) {
      return single('avgPoolBackprop', info.batch * info.inHeight * info.inWidth * info.inChannels, poolConstants(info), dy);
    },

    depthwiseConv2d(x, w, info) {
      return single('depthwiseConv2dForward', info.batch * info.outHeight * info.outWidth * info.outChannels, depthwiseConstants(info), x, w);
    },

    depthwiseConv2dBackpropInput(dy, w, info) {
      return single('depthwiseConv2dBackpropInput', info.batch * info.inHeight * info.inWidth * info.inChannels, depthwiseConstants(info), dy, w);
    },

    depthwiseConv2dBackpropFilter(x, dy, info) {
      return single('depthwiseConv2dBackpropFilter', info.filterHeight * info.filterWidth * info.outChannels, depthwiseConstants(info), x, dy);
    },

    zeroPad2d(x, info) {
      return single('zeroPad2d', info.batch * info.outHeight * info.outWidth * info.channels, padConstants(info), x);
    },

    zeroPad2dBackprop(dy, info) {
      return single('zeroPad2dBackprop', info.batch * info.inHeight * info.inWidth * info.channels, padConstants(info), dy);
    },

    reluWithOptions(x, o) {
      const hasMax = Number.isFinite(o.maxValue) ? 1 : 0;
      return single('reluWithOptions', x.length, { hasMax }, x, Float32Array.of(hasMax ? o.maxValue : 0, o.negativeSlope, o.threshold));
    },

    reluWithOptionsBackward(dy, x, o) {
      const hasMax = Number.isFinite(o.maxValue) ? 1 : 0;
      return single('reluWithOptionsBackward', dy.length, { hasMax }, dy, x, Float32Array.of(hasMax ? o.maxValue : 0, o.negativeSlope, o.threshold));
    },

    batchNormTrain(x, gamma, beta, channels, epsilon): BatchNormTrainResult {
      return op(() => {
        const n = x.length;
        const c = { C: channels, rows: n / channels };
        const xs = share(x);
        const mean = run('channelMean', channels, c, xs);
        const stats = run('channelStats', 3 * channels, c, xs, mean, h1(epsilon));
        const xy = runRead('normalizeScaleShift', 2 * n, c, xs, stats, gamma, beta);
        const s = read(stats);
        return { y: xy.slice(n), mean: s.slice(0, channels), variance: s.slice(channels, 2 * channels), xHat: xy.slice(0, n), invStd: s.slice(2 * channels) };
      });
    },

    batchNormInference(x, gamma, beta, mean, variance, channels, epsilon) {
      return single('batchNormInference', x.length, { C: channels, rows: x.length / channels }, x, gamma, beta, mean, variance, h1(epsilon));
    },

    batchNormBackward(dy, xHat, gamma, invStd, channels) {
      return op(() => {
        const c = { C: channels, rows: dy.length / channels };
        const dys = share(dy);
        const xh = share(xHat);
        const sums = run('channelSumDot', 2 * channels, c, dys, xh);
        const dx = runRead('batchNormBackwardDx', dy.length, c, dys, xh, gamma, invStd, sums);
        const s = read(sums);
        return { dx, dBeta: s.slice(0, channels), dGamma: s.slice(channels) };
      });
    },

    activation(kind, x, channels, alpha) {
      if (kind === 'softmax') return single('softmaxForward', x.length, { C: channels }, x);
      return single('activationForward', x.length, { kind: ACTIVATION_CODES[kind] }, x, h1(alpha));
    },

    activationBackward(kind, dy, x, y, channels, alpha) {
      if (kind === 'softmax') return single('softmaxBackward', dy.length, { C: channels }, dy, y);
      return single('activationBackward', dy.length, { kind: ACTIVATION_CODES[kind] }, dy, x, y, h1(alpha));
    },

    multiply(a, b) {
      return single('multiply', a.length, { nesterov: 0, n: a.length }, a, b);
    },

    sgdUpdate(value, grad, velocity, lr, momentum, nesterov) {
      const n = value.length;
      if (!velocity || momentum === 0) {
        value.set(single('sgd', n, { nesterov: 0, n }, value, grad, h1(lr)));
        return;
      }
      const out = single('sgdMomentum', 2 * n, { nesterov: nesterov ? 1 : 0, n }, value, grad, velocity, Float32Array.of(lr, momentum));
      velocity.set(out.subarray(0, n));
      value.set(out.subarray(n));
    },

    adamUpdate(value, grad, m, v, lr, beta1, beta2, epsilon, step) {
      const n = value.length;
      const alpha = (lr * Math.sqrt(1 - Math.pow(beta2, step))) / (1 - Math.pow(beta1, step));
      const out = single('adam', 3 * n, { nesterov: 0, n }, value, grad, m, v, Float32Array.of(beta1, beta2, alpha, epsilon));
      m.set(out.subarray(0, n));
      v.set(out.subarray(n, 2 * n));
      value.set(out.subarray(2 * n));
    },

    rmspropUpdate(value, grad, ms, lr, rho, epsilon) {
      const n = value.length;
      const out = single('rmsprop', 2 * n, { nesterov: 0, n }, value, grad, ms, Float32Array.of(rho, lr, epsilon));
      ms.set(out.subarray(0, n));
      value.set(out.subarray(n));
    },

    liveKernels() {
      return host.counts().liveKernels;
    },

    stats() {
      const c = host.counts();
      return { liveTextures: c.liveTextures, deviceTextures: c.deviceTextures, deviceBuffers: c.deviceBuffers, ...counts, workerRoundTrips: c.roundTrips };
    },

    dispose() {
      cache.clear();
      host.dispose();
    },
  };
  return backend;
}
