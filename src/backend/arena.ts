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
 * Where resident outputs come from: regions of the WebAssembly engine's memory (byte offsets),
 * set by src/backend/wasm/engine.ts. An op whose kernel runs in that memory writes its output
 * straight into a region and returns a view of it; the next op reads it there: no copy out of
 * the memory and none back in (on the seed model ~100 MB of copies per training step).
 */
export interface RegionAllocator {
  /** Offset of a new region of `bytes`, or -1 where the memory cannot hold it. */
  alloc(bytes: number): number;
  /** Returns a region no arena uses any more. */
  release(bytes: number, offset: number): void;
}

let regionAllocator: RegionAllocator | null = null;

/** Installs the allocator of resident regions (the WebAssembly engine does, once). */
export function setRegionAllocator(allocator: RegionAllocator): void {
  regionAllocator = allocator;
}

// Regions an arena holds, by size (bytes); released when the arena is cleared or collected.
class Regions {
  free = new Map<number, number[]>();
  used: { bytes: number; offset: number }[] = [];

  releaseAll(): void {
    for (const [bytes, list] of this.free) for (const offset of list) regionAllocator?.release(bytes, offset);
    for (const { bytes, offset } of this.used) regionAllocator?.release(bytes, offset);
    this.free.clear();
    this.used = [];
  }
}

// An arena dropped without clear() gives its regions back when it is collected.
const regionRegistry = new FinalizationRegistry<Regions>((regions) => regions.releaseAll());

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
  /** Regions of the engine's memory, free and handed out. */
  private regions = new Regions();

  constructor() {
    regionRegistry.register(this, this.regions);
  }

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

  /** Drops every buffer and gives its regions back (the next step allocates afresh). */
  clear(): void {
    this.free.clear();
    this.used = [];
    this.regions.releaseAll();
  }

  /** Bytes held (free and handed out). */
  bytes(): number {
    let n = 0;
    for (const list of this.free.values()) for (const b of list) n += b.byteLength;
    for (const u of this.used) n += u.buffer.byteLength;
    for (const [bytes, list] of this.regions.free) n += bytes * list.length;
    for (const u of this.regions.used) n += u.bytes;
    return n;
  }

  /** A region of `bytes` of the engine's memory for this step, or -1 (see {@link residentRegion}). */
  takeRegion(bytes: number): number {
    const r = this.regions;
    let offset = r.free.get(bytes)?.pop();
    if (offset === undefined) {
      offset = regionAllocator ? regionAllocator.alloc(bytes) : -1;
      if (offset < 0) return -1;
    }
    r.used.push({ bytes, offset });
    return offset;
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
    const r = this.regions;
    for (const [bytes, list] of r.free) for (const offset of list) regionAllocator?.release(bytes, offset);
    r.free = new Map();
    for (const { bytes, offset } of r.used) {
      let list = r.free.get(bytes);
      if (!list) r.free.set(bytes, (list = []));
      list.push(offset);
    }
    r.used = [];
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

/**
 * Byte offset of a region of the engine's memory for an output of `count` 4-byte elements, held
 * by the active arena until its next step; -1 outside a model step, for small outputs, or where
 * the memory cannot hold it (the op then copies its output out as usual). Like arena buffers,
 * a region holds the previous step's values.
 */
export function residentRegion(count: number): number {
  if (active === null || count < MIN_ELEMENTS) return -1;
  return active.takeRegion(count * 4);
}
