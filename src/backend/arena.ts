// Output buffers that live for one step of a model and are reused by the next.
//
// A training step allocates some twenty activation and gradient arrays of 5–20 MB. Fresh large
// allocations come from the operating system as untouched pages, and on these machines the first
// write to each 4 KiB page costs ~3 µs: ~28,000 page faults, ≈ 80 ms of a 350 ms step, before any
// arithmetic (measured with process.resourceUsage().minorPageFault). Every array an op returns in
// one step is dead by the next one (layers drop what they saved for backward, gradients are added
// into the parameters' own buffers), so a model runs each step inside an arena: ops take their
// outputs from it, and the next step of the same arena hands the same buffers out again.
//
// Outside an arena scope, outputs are ordinary fresh arrays: calling a backend op directly, or a
// model method that returns what it computed, never receives a buffer that something else reuses.

/** Arrays smaller than this many elements are allocated normally (no page-fault cost worth saving). */
const MIN_ELEMENTS = 1 << 14;

/**
 * Buffers for the outputs of one step. `run(fn)` first makes every buffer handed out by the
 * previous `run` available again, then runs fn with this arena active; buffers not reused by a
 * step are released after it.
 *
 * @example
 * const arena = new OutputArena();
 * arena.run(() => model-step-code()); // backend outputs inside come from the arena
 * arena.run(() => model-step-code()); // the first step's outputs are overwritten now
 */
export class OutputArena {
  /** Buffers free for this step, by element count and kind. */
  private free = new Map<string, ArrayBuffer[]>();
  /** Buffers handed out since the last recycle. */
  private used: { key: string; buffer: ArrayBuffer }[] = [];

  /** Runs fn with this arena active, after recycling every buffer of the previous run. */
  run<T>(fn: () => T): T {
    this.recycle();
    const outer = active;
    active = this;
    try {
      return fn();
    } finally {
      active = outer;
    }
  }

  /** Drops every buffer (the next step allocates afresh). */
  clear(): void {
    this.free.clear();
    this.used = [];
  }

  /** Bytes held (free and handed out). */
  bytes(): number {
    let n = 0;
    for (const list of this.free.values()) for (const b of list) n += b.byteLength;
    for (const u of this.used) n += u.buffer.byteLength;
    return n;
  }

  take(bytes: number, key: string): ArrayBuffer {
    const list = this.free.get(key);
    const buffer = list?.pop() ?? new ArrayBuffer(bytes);
    this.used.push({ key, buffer });
    return buffer;
  }

  // The last step's buffers become the free lists; free buffers it did not use are released, so
  // shapes that stop occurring (a last partial batch) do not pin memory.
  private recycle(): void {
    const free = new Map<string, ArrayBuffer[]>();
    for (const { key, buffer } of this.used) {
      let list = free.get(key);
      if (!list) free.set(key, (list = []));
      list.push(buffer);
    }
    this.free = free;
    this.used = [];
  }
}

let active: OutputArena | null = null;

/**
 * A float32 output of `count` elements: from the active arena inside a model step, else fresh.
 * Arena buffers hold the previous step's values: callers overwrite every element, or pass
 * `zero` to get zeros.
 */
export function outputF32(count: number, zero = false): Float32Array {
  if (active === null || count < MIN_ELEMENTS) return new Float32Array(count);
  const out = new Float32Array(active.take(count * 4, `f${count}`));
  if (zero) out.fill(0);
  return out;
}

/** Like {@link outputF32}, for int32 outputs (max-pool argmax). */
export function outputI32(count: number, zero = false): Int32Array {
  if (active === null || count < MIN_ELEMENTS) return new Int32Array(count);
  const out = new Int32Array(active.take(count * 4, `i${count}`));
  if (zero) out.fill(0);
  return out;
}

/** Whether a model step's arena is active (outputs are reused by the next step). */
export function inArena(): boolean {
  return active !== null;
}
