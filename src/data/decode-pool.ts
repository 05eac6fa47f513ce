import { ImageDecodeError, type RawImage } from '../image/decode.js';
import type { ColorMode, Interpolation } from '../image/resize.js';
import { prepareImageWith } from '../image/sharp-decoder.js';
import { lazyFunctions, nodeBuiltin } from '../util/node-builtins.js';
import { startWithExecArgv } from '../util/worker-args.js';

// Node built-ins fetched on first call (see util/node-builtins.ts).
const { existsSync } = lazyFunctions('node:fs', ['existsSync'], 'DecodePool');
const { readFile } = lazyFunctions('node:fs/promises', ['readFile'], 'DecodePool');
const { availableParallelism } = lazyFunctions('node:os', ['availableParallelism'], 'DecodePool');
const { dirname, join } = lazyFunctions('node:path', ['dirname', 'join'], 'DecodePool');
const { fileURLToPath, pathToFileURL } = lazyFunctions('node:url', ['fileURLToPath', 'pathToFileURL'], 'DecodePool');
type Worker = import('node:worker_threads').Worker;

/** One file to decode and resize, with a resolved decoder. */
export interface DecodeJob {
  id: number;
  path: string;
  targetSize: readonly [number, number];
  colorMode: ColorMode;
  interpolation: Interpolation;
  decoder: 'sharp' | 'js';
}

/** A worker's answer: the pixels (their buffer transferred), a bad file's reason, or a failure of the worker itself. */
export type DecodeReply =
  | { id: number; ok: true; width: number; height: number; channels: 1 | 3; data: Uint8Array | Float32Array }
  | { id: number; ok: false; reason: string }
  | { id: number; ok: 'crash'; message: string };

/** A decoded image, or why the file is bad. */
export type DecodeResult = { ok: true; image: RawImage<Uint8Array | Float32Array> } | { ok: false; reason: string };

/**
 * Reads, decodes and resizes one file: the work of a pool worker, also run on the calling
 * thread by a pool of size 0. Unreadable and undecodable files give `{ ok: false, reason }`;
 * anything else (a bug) throws.
 */
export async function decodeFile(job: Omit<DecodeJob, 'id'>): Promise<DecodeResult> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(job.path);
  } catch (e) {
    return { ok: false, reason: `unreadable: ${e instanceof Error ? e.message : String(e)}` };
  }
  try {
    const image = await prepareImageWith(job.decoder, bytes, job.path, { targetSize: job.targetSize, colorMode: job.colorMode, interpolation: job.interpolation });
    return { ok: true, image };
  } catch (e) {
    if (e instanceof ImageDecodeError) return { ok: false, reason: e.reason };
    throw e;
  }
}

/**
 * How to start a worker: the entry next to this module, `decode-worker.js` or `.cjs` in
 * `dist/` (a tsup entry of its own), or `decode-worker.ts` when running from source. Worker
 * threads on Node 20 do not get tsx's loader hooks for their entry file even when they
 * inherit its `--import`, so from source a one-line bootstrap registers tsx first.
 */
function workerStart(): { source: string; evalSource: boolean } {
  const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  const ext = here.endsWith('.ts') ? '.ts' : here.endsWith('.cjs') ? '.cjs' : '.js';
  const path = join(dirname(here), `decode-worker${ext}`);
  if (!existsSync(path)) throw new Error(`DecodePool: the worker entry ${path} is missing (a tscnn build without its decode-worker entry?)`);
  if (ext !== '.ts') return { source: path, evalSource: false };
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return { source: `import(${tsx}).then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(path).href)}); })`, evalSource: true };
}

interface Pending {
  job: DecodeJob;
  resolve: (r: DecodeResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  index: number;
  inflight: Map<number, Pending>;
  /** Set by the worker's first message, once its modules are loaded. */
  ready: boolean;
}

/** Jobs given to one worker at a time: one decoding, one waiting, so a worker never idles on the message round trip. */
const PER_WORKER = 2;

/**
 * A pool of worker threads that read, decode and resize image files. Jobs go to the least
 * busy worker in the order they are submitted; results come back as promises, so the caller
 * decides where each image lands and the order of the output never depends on the pool size.
 *
 * Workers are all started on first use. Until the first of them is ready (module loading
 * takes a moment, most of all under tsx), the calling thread decodes queued jobs itself, so a
 * small job list never waits for the pool to start. Workers hold a reference on the event loop only while they have
 * work (an idle pool never keeps the process alive), and are terminated by {@link close}. A
 * worker that dies (crash, out of memory, terminated from outside) fails every job it held
 * with an error naming the file it was decoding, and the whole pool with it: the other
 * workers are terminated and later submissions reject.
 *
 * With sharp, each worker sets `sharp.concurrency(1)` and turns sharp's operation cache off
 * (both process-wide settings of libvips), so that the pool size is the number of decoding
 * threads.
 *
 * @example
 * const pool = new DecodePool(2, 'myLoader');
 * const r = await pool.decode({ path: 'cat.1.jpg', targetSize: [100, 100], colorMode: 'rgb', interpolation: 'bilinear', decoder: 'js' });
 * await pool.close();
 */
export class DecodePool {
  /** Number of worker threads. */
  readonly size: number;
  private readonly fn: string;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private failure: Error | undefined;
  private closed = false;
  private helping = false;
  /** Jobs finished by worker threads (the rest ran on the calling thread while the workers started). */
  decodedInWorkers = 0;

  /**
   * @param size worker threads, at least 1 (default: `os.availableParallelism()`)
   * @param fn the public function that owns the pool, named in errors
   */
  constructor(size: number = availableParallelism(), fn = 'DecodePool') {
    if (!Number.isInteger(size) || size < 1) throw new Error(`${fn}: the decoding pool needs a positive integer number of workers, got ${size}`);
    this.size = size;
    this.fn = fn;
  }

  /** The running workers (tests use it to kill one). */
  get workers(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  /** Queues one file; resolves with its pixels or its reason, rejects when the pool fails or is closed. */
  decode(job: Omit<DecodeJob, 'id'>): Promise<DecodeResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error(`${this.fn}: the decoding pool is closed`));
    return new Promise<DecodeResult>((resolve, reject) => {
      this.queue.push({ job: { ...job, id: this.nextId++ }, resolve, reject });
      this.dispatch();
    });
  }

  /** Starts the workers when not yet started and resolves once every one has loaded its modules (rejects if the pool fails). */
  ready(): Promise<void> {
    if (this.slots.length === 0 && !this.failure && !this.closed) for (let i = 0; i < this.size; i++) this.spawn();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.failure) reject(this.failure);
        else if (this.closed) reject(new Error(`${this.fn}: the decoding pool is closed`));
        else if (this.slots.every((s) => s.ready)) resolve();
        else setTimeout(check, 10);
      };
      check();
    });
  }

  /** Terminates the workers; jobs still queued or running reject. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new Error(`${this.fn}: the decoding pool was closed`));
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    if (this.slots.length === 0 && this.queue.length > 0 && !this.failure) for (let i = 0; i < this.size; i++) this.spawn();
    while (this.queue.length > 0 && !this.failure) {
      let best: Slot | undefined;
      for (const s of this.slots) if (s.ready && s.inflight.size < PER_WORKER && (!best || s.inflight.size < best.inflight.size)) best = s;
      if (!best) break;
      const p = this.queue.shift()!;
      if (best.inflight.size === 0) best.worker.ref();
      best.inflight.set(p.job.id, p);
      best.worker.postMessage(p.job);
    }
    if (!this.helping && this.queue.length > 0 && !this.slots.some((s) => s.ready)) void this.help();
  }

  /** Decodes queued jobs on the calling thread while no worker is ready yet. */
  private async help(): Promise<void> {
    this.helping = true;
    while (this.queue.length > 0 && !this.failure && !this.closed && !this.slots.some((s) => s.ready)) {
      const p = this.queue.shift()!;
      try {
        p.resolve(await decodeFile(p.job));
      } catch (e) {
        p.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
    this.helping = false;
    this.dispatch();
  }

  private spawn(): void {
    const start = workerStart();
    const Worker = nodeBuiltin('node:worker_threads', 'DecodePool').Worker;
    const worker = startWithExecArgv((execArgv) => new Worker(start.source, { eval: start.evalSource, execArgv }));
    const slot: Slot = { worker, index: this.slots.length + 1, inflight: new Map(), ready: false };
    worker.unref();
    worker.on('message', (reply: DecodeReply | 'ready') => {
      if (reply === 'ready') {
        slot.ready = true;
        this.dispatch();
        return;
      }
      const p = slot.inflight.get(reply.id);
      if (!p) return;
      slot.inflight.delete(reply.id);
      if (slot.inflight.size === 0) worker.unref();
      this.decodedInWorkers++;
      if (reply.ok === true) p.resolve({ ok: true, image: { width: reply.width, height: reply.height, channels: reply.channels, data: reply.data } });
      else if (reply.ok === false) p.resolve({ ok: false, reason: reply.reason });
      else this.fail(slot, `failed while decoding "${p.job.path}": ${reply.message}`);
      this.dispatch();
    });
    worker.on('error', (e) => this.fail(slot, `threw ${e instanceof Error ? e.message : String(e)}`));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(slot, `exited with code ${code}`);
    });
    this.slots.push(slot);
  }

  /** A worker died or crashed: every job fails, naming the file that worker was decoding, and every worker goes. */
  private fail(slot: Slot, what: string): void {
    if (this.failure || this.closed) return;
    const first = slot.inflight.values().next().value;
    const during = first ? ` while decoding "${first.job.path}"` : '';
    this.failure = new Error(`${this.fn}: decode worker ${slot.index} of ${this.size} ${what}${what.includes(' while decoding ') ? '' : during}`);
    this.failAll(this.failure);
    for (const s of this.slots.splice(0)) void s.worker.terminate();
    this.closed = true;
  }

  private failAll(error: Error): void {
    for (const s of this.slots) {
      for (const p of s.inflight.values()) p.reject(error);
      s.inflight.clear();
    }
    for (const p of this.queue.splice(0)) p.reject(error);
  }
}
