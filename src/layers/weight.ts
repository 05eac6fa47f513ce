// A layer's weight with a version that changes whenever its values may have changed, so that a
// backend can keep a prepared copy of it (a packed Dense kernel, a folded Conv2D + BatchNorm
// kernel) and know when that copy is stale. Every writer (optimizer steps, setWeights,
// loadWeights, a host write like `param.value[i] = v` or `param.value.set(…)`) reaches the values
// through `value`, so every access to `value`, a read included, counts as a possible write:
// a writer cannot forget to bump. Only the readers that key a cache on the version read past it
// (weightValues). The one write it cannot see is through an array kept from an earlier access.
import type { Initializer } from '../initializers.js';
import type { L1L2 } from '../train/regularizers.js';
import type { Param } from './layer.js';

/** A {@link Param} whose `value` accesses are counted (see src/layers/weight.ts). */
export class Weight implements Param {
  private current: Float32Array;
  private changes = 0;
  grad: Float32Array;
  trainable: boolean;

  constructor(
    readonly name: string,
    readonly shape: readonly number[],
    value: Float32Array,
    trainable: boolean,
    readonly initializer: Initializer,
    readonly regularizer: L1L2 | null,
  ) {
    this.current = value;
    this.grad = new Float32Array(value.length);
    this.trainable = trainable;
  }

  /** The values. Each access counts as a possible write (the caller may write through it). */
  get value(): Float32Array {
    this.changes++;
    return this.current;
  }

  set value(v: Float32Array) {
    this.changes++;
    this.current = v;
  }

  /** @internal Counts the accesses to `value`: equal counts, unchanged values. */
  get version(): number {
    return this.changes;
  }

  /** @internal The values for a reader that keys a cache on {@link version}: not counted. */
  peek(): Float32Array {
    return this.current;
  }
}

/**
 * The version of `p` (see {@link Weight}), or null for a Param that keeps none (one built by hand):
 * never cache what such a Param holds.
 *
 * @example
 * const v = weightVersion(dense.params()[0]); // changes after any access to .value
 */
export function weightVersion(p: Param): number | null {
  return p instanceof Weight ? p.version : null;
}

/**
 * `p`'s values without counting an access: only for readers that check {@link weightVersion}
 * before they trust a copy and never write.
 *
 * @example
 * const kernel = weightValues(dense.params()[0]);
 */
export function weightValues(p: Param): Float32Array {
  return p instanceof Weight ? p.peek() : p.value;
}
