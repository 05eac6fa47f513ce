import { lazyFunctions } from '../util/node-builtins.js';

// Node built-ins fetched on first call (see util/node-builtins.ts).
const { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } = lazyFunctions(
  'node:fs', ['closeSync', 'fstatSync', 'fsyncSync', 'openSync', 'readSync', 'renameSync', 'rmSync', 'statSync', 'writeSync'], 'image cache');
const { crc32 } = lazyFunctions('node:zlib', ['crc32'], 'image cache');

/** The state of one image in a cache. */
export type CacheSlot = 'empty' | 'ok' | 'bad';

/**
 * Decoded, resized images kept between epochs, as uint8 pixels before `rescale` (tf.data's
 * `.cache()`), one slot of `per` bytes per file of the dataset. A file that could not be
 * decoded is remembered as bad with its reason.
 */
export interface ImageCache {
  /** Bytes per image (height · width · channels). */
  readonly per: number;
  /** Where the pixels live, for messages: 'memory' or the file path. */
  readonly where: string;
  slot(i: number): CacheSlot;
  /** The pixels of an 'ok' slot (a view or a fresh copy; valid until the next call). */
  read(i: number): Uint8Array;
  /** The reason of a 'bad' slot. */
  reason(i: number): string;
  write(i: number, pixels: Uint8Array): void;
  markBad(i: number, reason: string): void;
  /** Called after each epoch: a file cache whose every slot is filled is completed and renamed into place. */
  endEpoch(): void;
  close(): void;
}

/** `cache: true`: every slot in one Uint8Array, allocated on the first write. */
export class MemoryImageCache implements ImageCache {
  readonly where = 'memory';
  private data: Uint8Array | undefined;
  private readonly states: Uint8Array;
  private readonly reasons = new Map<number, string>();

  constructor(
    readonly count: number,
    readonly per: number,
  ) {
    this.states = new Uint8Array(count);
  }

  slot(i: number): CacheSlot {
    return SLOT_NAMES[this.states[i]];
  }
  read(i: number): Uint8Array {
    return this.data!.subarray(i * this.per, (i + 1) * this.per);
  }
  reason(i: number): string {
    return this.reasons.get(i) ?? '';
  }
  write(i: number, pixels: Uint8Array): void {
    this.data ??= new Uint8Array(this.count * this.per);
    this.data.set(pixels, i * this.per);
    this.states[i] = 1;
  }
  markBad(i: number, reason: string): void {
    this.states[i] = 2;
    this.reasons.set(i, reason);
  }
  endEpoch(): void {}
  close(): void {
    this.data = undefined;
  }
}

const SLOT_NAMES: readonly CacheSlot[] = ['empty', 'ok', 'bad'];
// Made when used, not at import: a page (the browser bundle) has no Buffer.
const MAGIC_TEXT = 'TSCNNIC\n';
const END_MAGIC_TEXT = 'TSCNNEND';
const magic = (): Buffer => Buffer.from(MAGIC_TEXT, 'latin1');
const endMagic = (): Buffer => Buffer.from(END_MAGIC_TEXT, 'latin1');
/** Bumped whenever the layout or the meaning of the pixels changes; older files are rebuilt. */
export const CACHE_FORMAT_VERSION = 1;

/** What shapes the cached pixels, and which files they came from. */
export interface CacheKey {
  options: { imageSize: readonly [number, number]; colorMode: string; interpolation: string; decoder: 'sharp' | 'js' };
  /** Paths in dataset order. */
  paths: readonly string[];
}

interface Header {
  format: 'tscnn-image-cache';
  version: number;
  options: CacheKey['options'];
  per: number;
  /** [path, size in bytes, modification time in ms] per file. */
  files: [string, number, number][];
}

interface Trailer {
  states: string;
  crc: number[];
  bad: Record<string, string>;
  headerCrc: number;
}

/**
 * `cache: 'path'`: a file that later epochs and later runs read instead of decoding.
 *
 * Layout: magic, header length (u32 LE), the header as JSON (format version, the options that
 * shape the pixels, every file's path, size and mtime), padding to 8 bytes, one slot of `per`
 * bytes per file, then a JSON trailer (slot states, a CRC-32 per slot, bad files' reasons, the
 * header's CRC-32), its length and CRC-32 (u32 LE) and an end magic.
 *
 * The first run writes `<path>.<pid>.tmp` while it decodes and renames it to `path` once every
 * slot is filled, so `path` only ever holds a complete cache. Opening checks the header against
 * the current files and options, the file size, the trailer's CRC and every slot's CRC;
 * anything that does not match is reported in one warning line and the cache is rebuilt.
 */
export class FileImageCache implements ImageCache {
  readonly per: number;
  readonly where: string;
  private fd: number;
  private writing: boolean;
  private readonly dataStart: number;
  private readonly headerBytes: Buffer;
  private readonly states: Uint8Array;
  private readonly crcs: Uint32Array;
  private readonly reasons = new Map<number, string>();
  private readonly buffer: Uint8Array;
  private readonly tmpPath: string;

  /**
   * Opens `path` when it holds a valid cache for `key`, else starts a new one (warning once,
   * naming `fn` and the reason, when an existing file is not used).
   */
  constructor(path: string, key: CacheKey, fn: string) {
    const [h, w] = key.options.imageSize;
    this.per = h * w * (key.options.colorMode === 'grayscale' ? 1 : 3);
    this.where = path;
    this.tmpPath = `${path}.${process.pid}.tmp`;
    const n = key.paths.length;
    const header: Header = {
      format: 'tscnn-image-cache',
      version: CACHE_FORMAT_VERSION,
      options: { imageSize: [h, w], colorMode: key.options.colorMode, interpolation: key.options.interpolation, decoder: key.options.decoder },
      per: this.per,
      files: key.paths.map((p) => {
        const s = statSync(p);
        return [p, s.size, s.mtimeMs];
      }),
    };
    this.headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
    this.dataStart = Math.ceil((MAGIC_TEXT.length + 4 + this.headerBytes.length) / 8) * 8;
    this.states = new Uint8Array(n);
    this.crcs = new Uint32Array(n);
    this.buffer = new Uint8Array(this.per);
    let problem: string | undefined;
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problem = `cannot open it: ${(e as Error).message}`;
    }
    if (fd !== undefined) {
      problem = this.validate(fd, header);
      if (problem === undefined) {
        this.fd = fd;
        this.writing = false;
        return;
      }
      closeSync(fd);
      this.states.fill(0);
      this.reasons.clear();
    }
    if (problem !== undefined) console.warn(`${fn}: cache file "${path}" not used (${problem}); rebuilding it`);
    this.fd = openSync(this.tmpPath, 'w+');
    this.writing = true;
    writeSync(this.fd, this.headerPrefix(), 0, undefined, 0);
    process.once('exit', this.removeTmp);
  }

  /** An incomplete cache is never reused, so its temp file goes with the process. */
  private readonly removeTmp = (): void => {
    rmSync(this.tmpPath, { force: true });
  };

  private headerPrefix(): Buffer {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(this.headerBytes.length);
    return Buffer.concat([magic(), len, this.headerBytes]);
  }

  /** Why the open file is not a valid cache for `want`, or undefined when it is (states, CRCs and reasons then loaded). */
  private validate(fd: number, want: Header): string | undefined {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(MAGIC_TEXT.length + 4);
    if (size < head.length + 16 || readSync(fd, head, 0, head.length, 0) < head.length || !head.subarray(0, MAGIC_TEXT.length).equals(magic())) return 'not a tscnn image cache';
    const headerLen = head.readUInt32LE(MAGIC_TEXT.length);
    if (headerLen > size) return 'truncated header';
    const bytes = Buffer.alloc(headerLen);
    readSync(fd, bytes, 0, headerLen, head.length);
    let have: Header;
    try {
      have = JSON.parse(bytes.toString('utf8')) as Header;
    } catch {
      return 'unreadable header';
    }
    if (have.format !== want.format || have.version !== want.version) return `format version ${String(have.version)}, this tscnn writes ${want.version}`;
    const optsHave = JSON.stringify(have.options);
    const optsWant = JSON.stringify(want.options);
    if (optsHave !== optsWant) return `made with options ${optsHave}, now ${optsWant}`;
    if (!Array.isArray(have.files) || have.files.length !== want.files.length) return `made for ${have.files?.length} files, the dataset has ${want.files.length}`;
    for (let i = 0; i < want.files.length; i++) {
      const [p, s, m] = have.files[i];
      const [wp, ws, wm] = want.files[i];
      if (p !== wp) return `file ${i} was "${p}", now "${wp}"`;
      if (s !== ws || m !== wm) return `"${wp}" changed since the cache was written (size ${s} → ${ws} bytes, mtime ${new Date(m).toISOString()} → ${new Date(wm).toISOString()})`;
    }
    if (!bytes.equals(this.headerBytes)) return 'header differs';
    const n = want.files.length;
    const dataEnd = this.dataStart + n * this.per;
    if (size < dataEnd + 16) return `truncated: ${size} bytes, the pixels alone need ${dataEnd}`;
    const tail = Buffer.alloc(16);
    readSync(fd, tail, 0, 16, size - 16);
    if (!tail.subarray(8).equals(endMagic())) return 'truncated or incomplete (no end marker)';
    const trailerLen = tail.readUInt32LE(0);
    if (dataEnd + trailerLen + 16 !== size) return `size ${size} bytes, expected ${dataEnd + trailerLen + 16}`;
    const trailerBytes = Buffer.alloc(trailerLen);
    readSync(fd, trailerBytes, 0, trailerLen, dataEnd);
    if (crc32(trailerBytes) !== tail.readUInt32LE(4)) return 'trailer checksum mismatch';
    const trailer = JSON.parse(trailerBytes.toString('utf8')) as Trailer;
    if (trailer.headerCrc !== crc32(this.headerBytes)) return 'header checksum mismatch';
    if (trailer.states.length !== n || trailer.crc.length !== n) return 'trailer does not list every file';
    for (let i = 0; i < n; i++) {
      const st = trailer.states.charCodeAt(i) - 48;
      if (st !== 1 && st !== 2) return `slot ${i} was never written`;
      this.states[i] = st;
      if (st === 2) this.reasons.set(i, trailer.bad[i] ?? 'bad file (reason not recorded)');
      else {
        readSync(fd, this.buffer, 0, this.per, this.dataStart + i * this.per);
        if (crc32(this.buffer) !== trailer.crc[i]) return `checksum mismatch in the pixels of "${want.files[i][0]}"`;
        this.crcs[i] = trailer.crc[i];
      }
    }
    return undefined;
  }

  slot(i: number): CacheSlot {
    return SLOT_NAMES[this.states[i]];
  }
  read(i: number): Uint8Array {
    const got = readSync(this.fd, this.buffer, 0, this.per, this.dataStart + i * this.per);
    if (got !== this.per) throw new Error(`image cache "${this.where}": short read of slot ${i} (${got} of ${this.per} bytes); was the file changed while in use?`);
    return this.buffer;
  }
  reason(i: number): string {
    return this.reasons.get(i) ?? '';
  }
  write(i: number, pixels: Uint8Array): void {
    if (!this.writing) return;
    writeSync(this.fd, pixels, 0, this.per, this.dataStart + i * this.per);
    this.crcs[i] = crc32(pixels);
    this.states[i] = 1;
  }
  markBad(i: number, reason: string): void {
    if (!this.writing) return;
    this.states[i] = 2;
    this.reasons.set(i, reason);
  }
  endEpoch(): void {
    if (!this.writing || this.states.includes(0)) return;
    const trailer: Trailer = {
      states: Array.from(this.states, (s) => String(s)).join(''),
      crc: Array.from(this.crcs),
      bad: Object.fromEntries(this.reasons),
      headerCrc: crc32(this.headerBytes),
    };
    const bytes = Buffer.from(JSON.stringify(trailer), 'utf8');
    const tail = Buffer.alloc(16);
    tail.writeUInt32LE(bytes.length, 0);
    tail.writeUInt32LE(crc32(bytes), 4);
    endMagic().copy(tail, 8);
    const at = this.dataStart + this.states.length * this.per;
    writeSync(this.fd, bytes, 0, bytes.length, at);
    writeSync(this.fd, tail, 0, 16, at + bytes.length);
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmpPath, this.where);
    process.off('exit', this.removeTmp);
    this.fd = openSync(this.where, 'r');
    this.writing = false;
  }
  close(): void {
    closeSync(this.fd);
    if (this.writing) {
      this.removeTmp();
      process.off('exit', this.removeTmp);
    }
    this.writing = false;
  }
}
