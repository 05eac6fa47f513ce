// Shared by the hostile-input suites: a bounded child process for cases that could hang,
// crash or exhaust memory, and builders of crafted PNG and JPEG files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import * as assert from 'uvu/assert';

/** Absolute path of `src/index.ts`, for imports inside child scripts. */
export const SRC = resolve(import.meta.dirname, '../../src/index.ts');

/** What a child run gave back: its output, exit, wall time and peak resident memory. */
export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  ms: number;
  /** Peak resident set size in MB as the child measured it at exit (its own VmHWM on Linux; NaN when it did not get there). */
  peakMB: number;
}

/**
 * Runs a TypeScript snippet (an ES module; `SRC` is importable) in a fresh Node process with a
 * V8 heap limit and a wall-clock limit, then prints the peak RSS. The snippet reports by
 * printing; a thrown error is printed as `ERROR: message` and exits 1.
 */
export function runChild(body: string, { heapMB = 512, timeoutMs = 30_000 } = {}): ChildResult {
  const dir = mkdtempSync(join(tmpdir(), 'tscnn-hostile-'));
  const file = join(dir, 'child.mts');
  writeFileSync(
    file,
    `try {\n${body}\n} catch (e) { console.log('ERROR: ' + (e instanceof Error ? e.message : String(e))); process.exitCode = 1; }\n` +
      // Linux keeps ru_maxrss across exec: resourceUsage().maxRSS would report the parent's
      // resident size at fork (the test runner's, ~600 MB late in the suite). VmHWM is this
      // process's own peak; other systems fall back to maxRSS.
      `const status = await import('node:fs').then((fs) => fs.readFileSync('/proc/self/status', 'utf8')).catch(() => '');\n` +
      `const hwm = /VmHWM:\\s+(\\d+) kB/.exec(status);\n` +
      `console.log('PEAK_RSS_MB ' + (hwm ? Number(hwm[1]) / 1024 : process.resourceUsage().maxRSS / 1024).toFixed(0));\n`,
  );
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [`--max-old-space-size=${heapMB}`, '--import', 'tsx', file], {
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    cwd: resolve(import.meta.dirname, '../..'),
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const peak = /PEAK_RSS_MB (\d+)/.exec(out);
  return { status: r.status, signal: r.signal, out, ms: performance.now() - t0, peakMB: peak ? Number(peak[1]) : NaN };
}

/** Asserts the child ended by itself within its limits, below `maxMB` peak RSS, printing `pattern`. */
export function expectChild(r: ChildResult, pattern: RegExp, maxMB: number, what: string): void {
  assert.is(r.signal, null, `${what}: killed by ${r.signal} after ${r.ms.toFixed(0)} ms (hung or ran out of memory); output:\n${r.out.slice(-2000)}`);
  assert.match(r.out, pattern, `${what}: output`);
  assert.ok(r.peakMB < maxMB, `${what}: peak RSS ${r.peakMB} MB, limit ${maxMB} MB`);
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * A PNG with any header and any (already compressed) image data, valid CRCs, ending in IEND.
 * `colorType` 2 is RGB; `idat` defaults to the deflated `raw`.
 */
export function craftPng({ width, height, bitDepth = 8, colorType = 2, interlace = 0, raw = new Uint8Array(0), idat }: { width: number; height: number; bitDepth?: number; colorType?: number; interlace?: number; raw?: Uint8Array; idat?: Uint8Array }): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  ihdr[12] = interlace;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat ?? deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Raw (filter byte 0 per row) RGB8 scanlines of a `width × height` image filled with `value`. */
export function rawRgbRows(width: number, height: number, value = 7): Uint8Array {
  const row = 1 + 3 * width;
  const out = new Uint8Array(row * height).fill(value);
  for (let y = 0; y < height; y++) out[y * row] = 0;
  return out;
}

/** A baseline JPEG header (SOI, SOF0) claiming `width × height`, then junk and EOI. */
export function craftJpegHeader(width: number, height: number): Buffer {
  return Buffer.from([
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
    0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
    0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, 0x12, 0x34, 0xff, 0xd9,
  ]);
}
