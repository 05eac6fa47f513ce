import type { Conv2DInfo } from '../../geometry.js';
import { deviceHandle, deviceState, toHost } from '../../device-storage.js';
import type { BatchNormActPoolResult, BatchNormTrainResult, ConvGrads, FusedBatchNormOps, FusedConvOps } from '../types.js';
import { KERNEL_CLASS, localHost, webGpuHost, type Value } from './hosts.js';
import { createResidency, type Arg } from './resident.js';
import { ACTIVATION_CODES, convConstants, depthwiseConstants, padConstants, poolConstants, type KernelName } from './kernel-table.js';
import { probeMode } from './probe.js';
import { dropoutParams } from '../reference/dropout.js';
import { startWebGpuWorker } from './webgpu-worker.js';
import type { GpuBackend, GpuBackendOptions } from './gpu-types.js';
import { extraGpuOps } from './gpu-extra-ops.js';

export { ACTIVATION_CODES, KERNEL_FUNCTIONS } from './kernel-table.js';
export type { GpuBackend, GpuBackendOptions, GpuStats } from './gpu-types.js';

/**
 * A backend that runs every op of the table as gpu.js kernels in one mode. Each op and shape compiles
 * one kernel (cached, least recently used destroyed beyond `maxKernels`, never while device arrays it made
 * are alive). Results stay on the device: in 'headlessgl' as textures (gpu.js pipeline mode), in 'webgpu'
 * as buffers the worker thread that owns the WebGPU device keeps (kernel runs are queued to it without
 * waiting; a readback is one blocking round trip), in 'webasm' as the arrays gpu.js's kernels return. Every op returns
 * them as device arrays (src/device-storage.ts, managed in resident.ts): the next op takes the handle,
 * host code reading the values gets them read back once (counted in stats()). Results packed in one
 * kernel ([y | argmax], [mean | variance | invStd], an optimizer's [v | w]) are split on the device.
 * In-place ops (sgdUpdate, adamUpdate, rmspropUpdate) give their targets new device copies when the
 * targets are this backend's device arrays (`hold`), else read the packed result back into them once.
 * `scope` frees what the ops inside made except state updated in place; `dispose` reads every device
 * array back first. A kernel that gpu.js quietly ran in another mode throws.
 *
 * The fused ops (`fused.conv`, `fused.batchNormActPool`) chain the same kernels inside one op: conv.conv2d is conv2dForward → biasAdd →
 * relu, the pooled forms add maxPool ([y | argmax]); their backward gathers the pooled gradient onto the
 * argmax cells (maxPoolBackprop, after relu' read off the pooled values), then runs the input gradient,
 * filter gradient and channelSum it needs. batchNormActPool.train is channelMean → channelStats →
 * normalizeAct → maxPool, its backward normalizedReluMask → maxPoolBackprop → normalizeAct (x̂ from x, mean
 * and invStd) → channelSumDot → batchNormBackwardDx. The pooled backward ops gather with the pool geometry
 * of an argmax this backend returned; for any other argmax the pooled gradient is scattered on the host.
 *
 * @example
 * const backend = createGpuBackend({ mode: 'webasm' });
 * const y = backend.multiply(new Float32Array([1, 2]), new Float32Array([3, 4])); // on the device
 * backend.stats().readbacks; // 0
 * y[1]; // 8, read back now
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
  /** Compiled kernels by key, least recently used first. */
  const cache = new Set<string>();
  let disposed = false;
  const counts = { kernelRuns: 0, kernelsCompiled: 0, uploads: 0, uploadBytes: 0, readbacks: 0, readbackBytes: 0 };
  const resident = createResidency(host, counts, (target, a, b, p, q) => {
    if (disposed) return false;
    op(() => {
      // A target reset by fill(0) has no device copy to read: p·0 + q·b.
      const zero = deviceState(target)?.zero === true;
      const [x, px] = zero && a === target ? [b, 0] : [a, p];
      put(target, run('combine', target.length, { nesterov: 0, n: target.length }, x, b, Float32Array.of(px, q)));
    });
    return true;
  });

  /**
   * Ends an op: deletes its device results, then destroys the least recently used kernels beyond the cap
   * (never mid-op, nor one whose results device arrays still hold: its texture would go with it).
   */
  function release(): void {
    host.release();
    for (const key of cache) {
      if (cache.size <= maxKernels) break;
      if (resident.holds(key)) continue;
      cache.delete(key);
      host.destroy(key);
    }
  }

  function op<T>(body: () => T): T {
    try {
      return body();
    } finally {
      release();
    }
  }

  function exec(name: KernelName, size: number, constants: object, given: Arg[], keep: boolean): Value {
    if (size === 0) return new Float32Array(0);
    const args = given.map((a) => resident.resolve(a));
    // Argument kinds and lengths are part of the key: a kernel called with a texture where it was built
    // for an array would make gpu.js compile and keep a second kernel behind the same shortcut, and one
    // compiled for an input of one length reads an input of another length wrongly.
    const kinds = args.map((a) => `${a instanceof Float32Array ? 'a' : 't'}${argLength(a)}`).join(',');
    const key = `${name}|${size}|${kinds}|${JSON.stringify(constants)}`;
    if (cache.delete(key)) cache.add(key);
    else {
      cache.add(key);
      counts.kernelsCompiled++;
    }
    for (const a of args) {
      if (a instanceof Float32Array && resident.isUpload(a)) {
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
    resident.produced(out, key);
    return out;
  }

  /** Runs a kernel whose result stays on the device (an array on gpu.js's side in 'webasm'). */
  function run(name: KernelName, size: number, constants: object, ...args: Arg[]): Value {
    return exec(name, size, constants, args, true);
  }

  /** Part [off, off + n) of a packed result of `total` values, on the device. */
  function piece(v: Value, total: number, off: number, n: number): Value {
    if (v instanceof Float32Array) {
      const part = v.slice(off, off + n);
      resident.produced(part);
      return part;
    }
    return run('copyRange', n, { off, len: total }, v);
  }

  /** `v` as the new values of `target`: on the device for this backend's device arrays, else read back into it. */
  function put(target: Float32Array, v: Value): void {
    if (!resident.assign(target, v)) target.set(resident.read(v));
  }

  /** An in-place update's packed result [t₀ | t₁ | …] into its targets: on the device where they are this backend's device arrays, else read back once. */
  function putParts(packed: Value, targets: Float32Array[]): void {
    const n = targets[0].length;
    if (targets.every((t) => deviceState(t)?.owner === resident.owner)) {
      targets.forEach((t, i) => put(t, piece(packed, targets.length * n, i * n, n)));
      return;
    }
    const host = resident.read(packed);
    targets.forEach((t, i) => t.set(host.subarray(i * n, (i + 1) * n)));
  }

  /** An input several kernels of one op read: a host array is uploaded once in pipeline mode. */
  function share(a: Arg): Value {
    const v = resident.resolve(a);
    return host.pipeline && v instanceof Float32Array && resident.isUpload(v) ? run('copy', v.length, { n: v.length }, v) : v;
  }

  const h1 = (a: number) => Float32Array.of(a);
  const poolInfo = new WeakMap<Int32Array, Conv2DInfo>();
  const out = (v: Value, n: number) => resident.result(v, n);
  const single = (name: KernelName, size: number, constants: object, ...args: Arg[]) => op(() => out(run(name, size, constants, ...args), size));

  /** maxPool's packed [y | argmax] (S each) as device arrays; the argmax remembers its pool for backward. */
  function pooled(both: Value, S: number, pool: Conv2DInfo): { y: Float32Array; argmax: Int32Array } {
    const argmax = resident.intResult(piece(both, 2 * S, S, S), S);
    poolInfo.set(argmax, pool);
    return { y: out(piece(both, 2 * S, 0, S), S), argmax };
  }

  /** act(conv2d(x, w) + bias), on the device. */
  function convBiasAct(x: Arg, w: Arg, bias: Arg | null, info: Conv2DInfo, activation: 'linear' | 'relu'): Value {
    const n = info.batch * info.outHeight * info.outWidth * info.outChannels;
    let z = run('conv2dForward', n, convConstants(info), x, w);
    if (bias) z = run('biasAdd', n, { C: info.outChannels, rows: n / info.outChannels }, z, bias);
    if (activation === 'relu') z = run('activationForward', n, { kind: ACTIVATION_CODES.relu }, z, h1(0));
    return z;
  }

  /** The gradients of a convolution from dz (its output's gradient) that `need` asks for. */
  function convGrads(x: Arg, w: Arg, dz: Value, info: Conv2DInfo, need: { dx: boolean; dw: boolean; db: boolean }): ConvGrads {
    const F = info.outChannels;
    const c = convConstants(info);
    const grad = (name: KernelName, size: number, constants: object, ...args: Arg[]) => out(run(name, size, constants, ...args), size);
    return {
      dx: need.dx ? grad('conv2dBackpropInput', info.batch * info.inHeight * info.inWidth * info.inChannels, c, dz, w) : null,
      dw: need.dw ? grad('conv2dBackpropFilter', info.filterHeight * info.filterWidth * info.inChannels * F, c, x, dz) : null,
      db: need.db ? grad('channelSum', F, { C: F, rows: info.batch * info.outHeight * info.outWidth }, dz) : null,
    };
  }

  /** relu'(y)·dy where y > 0 (the forward's output or the pooled value), else dy. */
  function reluMask(dy: Arg, y: Arg, n: number, activation: 'linear' | 'relu'): Arg {
    if (activation === 'linear') return dy;
    return run('activationBackward', n, { kind: ACTIVATION_CODES.relu }, dy, y, y, h1(0));
  }

  const fusedConv: FusedConvOps = {
    conv2d(x, w, bias, info, activation) {
      return op(() => out(convBiasAct(x, w, bias, info, activation), info.batch * info.outHeight * info.outWidth * info.outChannels));
    },

    conv2dBackward(x, w, dy, y, info, activation, need) {
      return op(() => convGrads(x, w, resident.resolve(reluMask(dy, y, dy.length, activation)), info, need));
    },

    conv2dMaxPool(x, w, bias, info, activation, pool) {
      const c = poolConstants(pool);
      // An output of S (not 2·S) threads runs only maxPool's first half: the pooled values, no argmax.
      return op(() => out(run('maxPool', c.S, c, convBiasAct(x, w, bias, info, activation)), c.S));
    },

    conv2dMaxPoolTrain(x, w, bias, info, activation, pool) {
      const c = poolConstants(pool);
      return op(() => pooled(run('maxPool', 2 * c.S, c, convBiasAct(x, w, bias, info, activation)), c.S, pool));
    },

    conv2dMaxPoolBackward(x, w, dy, y, argmax, info, activation, need) {
      return op(() => {
        if (!need.dx && !need.dw && !need.db) return { dx: null, dw: null, db: null };
        const pool = poolInfo.get(argmax);
        const n = info.batch * info.outHeight * info.outWidth * info.outChannels;
        if (pool) return convGrads(x, w, run('maxPoolBackprop', n, poolConstants(pool), reluMask(dy, y, dy.length, activation), argmax), info, need);
        // An argmax this backend did not produce has no pool geometry to gather with: scatter on the host.
        const [hy, hdy, ham] = [toHost(y), toHost(dy), toHost(argmax)];
        const dz = new Float32Array(n);
        for (let i = 0; i < hdy.length; i++) if (ham[i] >= 0 && (activation === 'linear' || hy[i] > 0)) dz[ham[i]] = hdy[i];
        return convGrads(x, w, resident.resolve(dz), info, need);
      });
    },
  };

  const fusedBatchNorm: FusedBatchNormOps = {
    train(x, gamma, beta, channels, epsilon, activation, pool): BatchNormActPoolResult {
      const p = poolConstants(pool);
      return op(() => {
        const c = { C: channels, rows: x.length / channels };
        const xs = share(x);
        const mean = run('channelMean', channels, c, xs);
        const stats = run('channelStats', 3 * channels, c, xs, mean, h1(epsilon));
        const z = run('normalizeAct', x.length, { ...c, act: activation === 'relu' ? 2 : 1 }, xs, stats, gamma, beta);
        const { y, argmax } = pooled(run('maxPool', 2 * p.S, p, z), p.S, pool);
        const part = (k: number) => out(piece(stats, 3 * channels, k * channels, channels), channels);
        return { y, argmax, mean: part(0), variance: part(1), invStd: part(2) };
      });
    },

    backward(dy, x, gamma, beta, mean, invStd, argmax, channels, activation, pool) {
      return op(() => {
        const n = x.length;
        const c = { C: channels, rows: n / channels };
        // The layout channelStats gives [mean | variance | invStd]; the kernels here read no variance.
        const stats = run('pack3', 3 * channels, { A: channels, B: channels }, mean, mean, invStd);
        const xs = share(x);
        const am = share(argmax);
        const dyMasked = activation === 'relu' ? run('normalizedReluMask', dy.length, c, dy, am, xs, stats, gamma, beta) : dy;
        const d = run('maxPoolBackprop', n, poolConstants(pool), dyMasked, am);
        const xHat = run('normalizeAct', n, { ...c, act: 0 }, xs, stats, gamma, beta);
        const sums = run('channelSumDot', 2 * channels, c, d, xHat);
        const dx = out(run('batchNormBackwardDx', n, c, d, xHat, gamma, invStd, sums), n);
        return { dx, dBeta: out(piece(sums, 2 * channels, 0, channels), channels), dGamma: out(piece(sums, 2 * channels, channels, channels), channels) };
      });
    },
  };

  const backend: GpuBackend = {
    name: `gpu:${mode}`,
    mode,
    fused: { conv: fusedConv, batchNormActPool: fusedBatchNorm },
    ...extraGpuOps({ single, run, op, out, share }),

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
      return op(() => pooled(run('maxPool', 2 * c.S, c, x), c.S, info));
    },

    maxPoolBackprop(dy, argmax, inputSize) {
      const info = poolInfo.get(argmax);
      if (!info) {
        // An argmax this backend did not produce has no geometry to gather with: scatter on the host.
        const [hdy, ham] = [toHost(dy), toHost(argmax)];
        const dx = new Float32Array(inputSize);
        for (let i = 0; i < hdy.length; i++) if (ham[i] >= 0) dx[ham[i]] += hdy[i];
        return dx;
      }
      return single('maxPoolBackprop', inputSize, poolConstants(info), dy, argmax);
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
        const xy = run('normalizeScaleShift', 2 * n, c, xs, stats, gamma, beta);
        const part = (k: number) => out(piece(stats, 3 * channels, k * channels, channels), channels);
        return { y: out(piece(xy, 2 * n, n, n), n), mean: part(0), variance: part(1), xHat: out(piece(xy, 2 * n, 0, n), n), invStd: part(2) };
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
        const dx = out(run('batchNormBackwardDx', dy.length, c, dys, xh, gamma, invStd, sums), dy.length);
        return { dx, dBeta: out(piece(sums, 2 * channels, 0, channels), channels), dGamma: out(piece(sums, 2 * channels, channels, channels), channels) };
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

    dropout(x, rate, seed) {
      return single('dropout', x.length, { n: x.length }, x, Float32Array.from(dropoutParams(rate, seed)));
    },

    add(a, b) {
      return single('add', a.length, { A: a.length, B: 0 }, a, b);
    },

    concat(parts, rows, widths) {
      let y: Float32Array = parts[0].slice();
      let width = widths[0];
      for (let i = 1; i < parts.length; i++) {
        y = single('concat2', rows * (width + widths[i]), { A: width, B: widths[i] }, y, parts[i]);
        width += widths[i];
      }
      return y;
    },

    concatBackward(dy, rows, widths) {
      const W = widths.reduce((a, b) => a + b, 0);
      let O = 0;
      return widths.map((w) => {
        const dx = single('sliceColumns', rows * w, { W, w, O }, dy);
        O += w;
        return dx;
      });
    },

    sgdUpdate(value, grad, velocity, lr, momentum, nesterov) {
      const n = value.length;
      op(() => {
        if (!velocity || momentum === 0) return put(value, run('sgd', n, { nesterov: 0, n }, value, grad, h1(lr)));
        const both = run('sgdMomentum', 2 * n, { nesterov: nesterov ? 1 : 0, n }, value, grad, velocity, Float32Array.of(lr, momentum));
        putParts(both, [velocity, value]);
      });
    },

    adamUpdate(value, grad, m, v, lr, beta1, beta2, epsilon, step) {
      const n = value.length;
      const alpha = (lr * Math.sqrt(1 - Math.pow(beta2, step))) / (1 - Math.pow(beta1, step));
      op(() => putParts(run('adam', 3 * n, { nesterov: 0, n }, value, grad, m, v, Float32Array.of(beta1, beta2, alpha, epsilon)), [m, v, value]));
    },

    rmspropUpdate(value, grad, ms, lr, rho, epsilon) {
      const n = value.length;
      op(() => putParts(run('rmsprop', 2 * n, { nesterov: 0, n }, value, grad, ms, Float32Array.of(rho, lr, epsilon)), [ms, value]));
    },

    scope(fn) {
      try {
        return resident.scope(fn);
      } finally {
        // Kernels whose results the scope freed may now be destroyed beyond the cap.
        release();
      }
    },

    hold(a) {
      if (deviceHandle(a, resident.owner) !== null) return a;
      return op(() => out(run('copy', a.length, { n: a.length }, a), a.length));
    },

    liveKernels() {
      return host.counts().liveKernels;
    },

    kernelClasses: () => host.kernelClasses(),

    stats() {
      const c = host.counts();
      const r = resident.live();
      return {
        liveTextures: c.liveTextures, deviceTextures: c.deviceTextures, deviceBuffers: c.deviceBuffers, ...counts, workerRoundTrips: c.roundTrips,
        residentArrays: r.arrays, residentBytes: r.bytes,
      };
    },

    dispose() {
      // What is still on the device (weights, optimizer state) comes back to the host before the device goes.
      if (!disposed) resident.evacuate();
      disposed = true;
      cache.clear();
      host.dispose();
    },
  };
  return backend;
}

/** The number of values an argument holds: an array's length, a texture's (1-D) output size, a WebGPU result's length. */
function argLength(a: unknown): number {
  if (ArrayBuffer.isView(a)) return (a as Float32Array).length;
  const sized = a as { length?: number; output?: number[] };
  return typeof sized.length === 'number' ? sized.length : sized.output?.[0] ?? -1;
}
