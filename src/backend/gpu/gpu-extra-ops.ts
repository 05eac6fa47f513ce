// The gpu backend's merge and augmentation ops (the Subtract, Average, Maximum, Minimum,
// RandomRotation, RandomZoom and RandomContrast layers), built on the backend's kernel runners.
import type { Backend, FillMode, ImageTransformInfo } from '../types.js';
import type { Arg } from './resident.js';
import type { Value } from './hosts.js';
import type { KernelName } from './kernel-table.js';

/** The backend's kernel runners these ops are built on (see createGpuBackend). */
export interface KernelRunners {
  /** One kernel as a whole op: its result as a device array. */
  single(name: KernelName, size: number, constants: object, ...args: Arg[]): Float32Array;
  /** A kernel inside an op: its result stays a device value. */
  run(name: KernelName, size: number, constants: object, ...args: Arg[]): Value;
  /** Runs an op's kernels, then frees their intermediate results. */
  op<T>(body: () => T): T;
  /** An op's result of n values as a device array. */
  out(v: Value, n: number): Float32Array;
  /** An input several kernels of one op read, uploaded once. */
  share(a: Arg): Value;
}

const FILL_CODES: Record<FillMode, number> = { constant: 0, reflect: 1, wrap: 2, nearest: 3 };

type ExtraOps = Pick<Backend, 'combine' | 'extremum' | 'extremumBackward' | 'imageTransform' | 'imageTransformBackward' | 'adjustContrast' | 'adjustContrastBackward'>;

/**
 * The ops as kernels of kernels/merge.ts, kernels/update.ts (combine) and kernels/image.ts.
 * imageTransformBackward gathers: each input cell visits every output pixel of its image.
 *
 * @example
 * const extra = extraGpuOps({ single, run, op, out, share });
 */
export function extraGpuOps(k: KernelRunners): ExtraOps {
  return {
    combine(a, b, p, q) {
      return k.single('combine', a.length, { nesterov: 0, n: a.length }, a, b, Float32Array.of(p, q));
    },

    extremum(kind, a, b) {
      return k.single('extremum', a.length, { isMax: kind === 'max' ? 1 : 0, side: 0 }, a, b);
    },

    extremumBackward(kind, dy, a, b) {
      const isMax = kind === 'max' ? 1 : 0;
      return k.op(() => {
        const [d, x, y] = [k.share(dy), k.share(a), k.share(b)];
        return {
          da: k.out(k.run('extremumGrad', dy.length, { isMax, side: 0 }, d, x, y), dy.length),
          db: k.out(k.run('extremumGrad', dy.length, { isMax, side: 1 }, d, x, y), dy.length),
        };
      });
    },

    imageTransform(x, transforms, info) {
      return k.single('imageTransform', x.length, transformConstants(info), x, transforms);
    },

    imageTransformBackward(dy, transforms, info) {
      return k.single('imageTransformBackward', dy.length, transformConstants(info), dy, transforms);
    },

    adjustContrast(x, factors, info) {
      const c = { P: info.height * info.width, C: info.channels };
      return k.op(() => {
        const xs = k.share(x);
        const mean = k.run('imageChannelMean', info.batch * info.channels, c, xs);
        return k.out(k.run('contrast', x.length, c, xs, mean, factors, Float32Array.of(info.lower, info.upper)), x.length);
      });
    },

    adjustContrastBackward(dy, x, factors, info) {
      const c = { P: info.height * info.width, C: info.channels };
      const h = Float32Array.of(info.lower, info.upper);
      return k.op(() => {
        const [ds, xs, fs, hs] = [k.share(dy), k.share(x), k.share(factors), k.share(h)];
        const mean = k.run('imageChannelMean', info.batch * info.channels, c, xs);
        const sums = k.run('contrastMaskedSum', info.batch * info.channels, c, ds, xs, mean, fs, hs);
        return k.out(k.run('contrastBackward', dy.length, c, ds, xs, mean, fs, sums, hs), dy.length);
      });
    },
  };
}

/** The constants of kernels/image.ts's transform kernels for `info`. */
function transformConstants(info: ImageTransformInfo): object {
  return {
    H: info.height, W: info.width, C: info.channels, mode: FILL_CODES[info.fillMode], bilinear: info.interpolation === 'bilinear' ? 1 : 0, fill: info.fillValue,
  };
}
