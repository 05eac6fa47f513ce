import { checkOptionKeys } from '../util/options.js';
import jpeg from 'jpeg-js';
import type { RawImage } from '../image/decode.js';
import { mixSeed, mulberry32 } from '../util/data-random.js';
import { nodeBuiltin, nodeRequire } from '../util/node-builtins.js';
import { drawPhoto } from './photo-texture.js';
import { writePng } from '../image/png-codec.js';

/** Options of {@link generateCatsDogs}. */
export interface GenerateCatsDogsOptions {
  /** Folder that receives `cats/` and `dogs/`. */
  outDir: string;
  /** Total number of images. */
  count: number;
  /** Fraction of cats, in [0, 1]; default 0.5. `round(count · catFraction)` cats are drawn. */
  catFraction?: number;
  /** Default 0. The same seed gives the same bytes. */
  seed?: number;
  /** Smallest width and height in pixels; default 80. */
  minSize?: number;
  /** Largest width and height in pixels; default 160. */
  maxSize?: number;
  /** Encoding of the files: a seeded mix of PNG and JPEG (default), or only one of them. */
  format?: 'mixed' | 'png' | 'jpeg';
  /**
   * Photograph-like images (see {@link addPhotoTexture}): textured, lit and grainy, encoded
   * as JPEG at quality 85 unless `format` says otherwise. Default false (the small, smooth
   * drawings). With `minSize: 375, maxSize: 500` the files are about as large and as slow to
   * decode as the photos of the Kaggle set.
   */
  photo?: boolean;
}

/** What {@link generateCatsDogs} wrote. */
export interface GeneratedCatsDogs {
  cats: number;
  dogs: number;
  /** Paths of the files written, cats first. */
  files: string[];
}

type Kind = 'cat' | 'dog';

/** Anything drawable, in the animal's local frame (head radius 1, y down). */
interface Shape {
  inside(u: number, v: number): boolean;
  bounds: [number, number, number, number];
}

function ellipse(cx: number, cy: number, rx: number, ry: number, rot = 0): Shape {
  const c = Math.cos(rot);
  const s = Math.sin(rot);
  const r = Math.max(rx, ry);
  return {
    inside: (u, v) => {
      const du = u - cx;
      const dv = v - cy;
      const a = (du * c + dv * s) / rx;
      const b = (-du * s + dv * c) / ry;
      return a * a + b * b <= 1;
    },
    bounds: [cx - r, cy - r, cx + r, cy + r],
  };
}

function polygon(points: readonly (readonly [number, number])[]): Shape {
  const us = points.map((p) => p[0]);
  const vs = points.map((p) => p[1]);
  return {
    inside: (u, v) => {
      let inside = false;
      for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
        const [ui, vi] = points[i];
        const [uj, vj] = points[j];
        if (vi > v !== vj > v && u < ((uj - ui) * (v - vi)) / (vj - vi) + ui) inside = !inside;
      }
      return inside;
    },
    bounds: [Math.min(...us), Math.min(...vs), Math.max(...us), Math.max(...vs)],
  };
}

/** A line segment of half-width `hw` with round caps. */
function line(u0: number, v0: number, u1: number, v1: number, hw: number): Shape {
  const du = u1 - u0;
  const dv = v1 - v0;
  const len2 = du * du + dv * dv;
  return {
    inside: (u, v) => {
      const t = Math.max(0, Math.min(1, ((u - u0) * du + (v - v0) * dv) / len2));
      const eu = u - (u0 + t * du);
      const ev = v - (v0 + t * dv);
      return eu * eu + ev * ev <= hw * hw;
    },
    bounds: [Math.min(u0, u1) - hw, Math.min(v0, v1) - hw, Math.max(u0, u1) + hw, Math.max(v0, v1) + hw],
  };
}

const mirror = (pts: readonly (readonly [number, number])[]): [number, number][] => pts.map(([u, v]) => [-u, v]);

type Rgb = [number, number, number];

/** RGB float canvas with anti-aliased drawing (3×3 supersampling of coverage). */
class Canvas {
  readonly data: Float32Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Float32Array(width * height * 3);
  }

  /** Draws `shape` placed at (cx, cy) in pixels, scaled by `scale` px per unit, rotated by `rot`. */
  draw(shape: Shape, color: Rgb, cx: number, cy: number, scale: number, rot: number): void {
    const c = Math.cos(rot);
    const s = Math.sin(rot);
    const [u0, v0, u1, v1] = shape.bounds;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const [u, v] of [[u0, v0], [u1, v0], [u0, v1], [u1, v1]]) {
      const x = cx + scale * (u * c - v * s);
      const y = cy + scale * (u * s + v * c);
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    const xs = Math.max(0, Math.floor(x0));
    const xe = Math.min(this.width - 1, Math.ceil(x1));
    const ys = Math.max(0, Math.floor(y0));
    const ye = Math.min(this.height - 1, Math.ceil(y1));
    const n = 3;
    for (let py = ys; py <= ye; py++) {
      for (let px = xs; px <= xe; px++) {
        let hits = 0;
        for (let sy = 0; sy < n; sy++) {
          for (let sx = 0; sx < n; sx++) {
            const dx = px + (sx + 0.5) / n - cx;
            const dy = py + (sy + 0.5) / n - cy;
            // inverse rotation into the local frame
            if (shape.inside((dx * c + dy * s) / scale, (-dx * s + dy * c) / scale)) hits++;
          }
        }
        if (hits === 0) continue;
        const a = hits / (n * n);
        const i = (py * this.width + px) * 3;
        for (let k = 0; k < 3; k++) this.data[i + k] = this.data[i + k] * (1 - a) + color[k] * a;
      }
    }
  }
}

/** A colour as hue [0, 6), saturation [0, 1] and value in [V_MIN, V_MIN + V_RANGE). */
interface Hsv {
  h: number;
  s: number;
  v: number;
}

const V_MIN = 40;
const V_RANGE = 200;

/**
 * The one colour distribution of the generator: hue uniform, saturation uniform in
 * [0.1, 0.7], value uniform in [40, 240). Every colour of every image (backgrounds, fur,
 * ears, eyes, nose, whiskers, clutter) has exactly this distribution, for both classes, so
 * the expected colour histogram of a pixel does not depend on the class or on which part of
 * the animal it belongs to.
 */
function randomColor(rand: () => number): Hsv {
  return { h: rand() * 6, s: 0.1 + 0.6 * rand(), v: V_MIN + V_RANGE * rand() };
}

/**
 * A colour whose value differs from `other`'s by a circular shift of `minShift`…
 * `V_RANGE − minShift`: shapes stay visible (|Δvalue| ≥ minShift), yet because a uniform
 * value shifted mod the range is still uniform, the colour keeps exactly the distribution of
 * {@link randomColor}. Rejection sampling on contrast would skew it (toward extremes), and
 * since the classes use the colour roles over different areas, that skew would show up as a
 * class-dependent brightness.
 */
function shiftedColor(rand: () => number, other: Hsv, minShift: number, maxShift = V_RANGE - minShift): Hsv {
  const shift = minShift + (maxShift - minShift) * rand();
  const v = V_MIN + ((((other.v - V_MIN + shift) % V_RANGE) + V_RANGE) % V_RANGE);
  return { h: rand() * 6, s: 0.1 + 0.6 * rand(), v };
}

function toRgb({ h, s: sat, v: val }: Hsv): Rgb {
  const f = h - Math.floor(h);
  const p = val * (1 - sat);
  const q = val * (1 - sat * f);
  const t = val * (1 - sat * (1 - f));
  switch (Math.floor(h) % 6) {
    case 0: return [val, t, p];
    case 1: return [q, val, p];
    case 2: return [p, val, t];
    case 3: return [p, q, val];
    case 4: return [t, p, val];
    default: return [val, p, q];
  }
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * Draws one synthetic cat or dog face into an RGB image of `width`×`height`, using only
 * `rand`. Cats: pointed triangular ears on top, slit pupils, small triangular nose,
 * whiskers. Dogs: floppy ears hanging down the sides, a long muzzle, a large round nose,
 * a tongue. Position, scale, rotation, all colours, the background gradient, clutter blobs
 * and noise are drawn from the same distributions for both kinds.
 *
 * @example
 * const img = drawCatOrDog('cat', mulberry32(1), 96, 80); // RawImage, channels 3
 */
export function drawCatOrDog(kind: Kind, rand: () => number, width: number, height: number): RawImage {
  const canvas = new Canvas(width, height);
  const bg0Hsv = randomColor(rand);
  const bg0 = toRgb(bg0Hsv);
  const bg1 = toRgb(shiftedColor(rand, bg0Hsv, -25, 25));
  const angle = rand() * 2 * Math.PI;
  const ga = Math.cos(angle);
  const gb = Math.sin(angle);
  const span = Math.abs(ga) * width + Math.abs(gb) * height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = Math.min(1, Math.max(0, ((x - width / 2) * ga + (y - height / 2) * gb) / span + 0.5));
      const i = (y * width + x) * 3;
      for (let k = 0; k < 3; k++) canvas.data[i + k] = bg0[k] * (1 - t) + bg1[k] * t;
    }
  }
  const side = Math.min(width, height);
  const clutter = Math.floor(rand() * 4);
  for (let i = 0; i < clutter; i++) {
    canvas.draw(ellipse(0, 0, 0.4 + rand(), 0.4 + rand(), 0), toRgb(randomColor(rand)), rand() * width, rand() * height, side * 0.08, rand() * Math.PI);
  }

  const scale = side * (0.2 + 0.1 * rand());
  const rot = (rand() - 0.5) * 1.0;
  const margin = scale * 1.35;
  const cx = margin + rand() * Math.max(0, width - 2 * margin) + (width < 2 * margin ? width / 2 - margin : 0);
  const cy = margin + rand() * Math.max(0, height - 2 * margin) + (height < 2 * margin ? height / 2 - margin : 0);
  const furHsv = shiftedColor(rand, bg0Hsv, 60);
  const eyeHsv = shiftedColor(rand, furHsv, 50);
  const fur = toRgb(furHsv);
  const ear = toRgb(shiftedColor(rand, furHsv, 50));
  const eye = toRgb(eyeHsv);
  const pupil = toRgb(shiftedColor(rand, eyeHsv, 60));
  const nose = toRgb(shiftedColor(rand, furHsv, 50));
  const detail = toRgb(shiftedColor(rand, furHsv, 50));
  const draw = (shape: Shape, color: Rgb): void => canvas.draw(shape, color, cx, cy, scale, rot);

  if (kind === 'cat') {
    const earL: [number, number][] = [[-0.95, -0.3], [-0.72, -1.5], [-0.2, -0.85]];
    const innerL: [number, number][] = [[-0.8, -0.5], [-0.7, -1.2], [-0.38, -0.82]];
    draw(polygon(earL), fur);
    draw(polygon(mirror(earL)), fur);
    draw(ellipse(0, 0, 1.0, 0.88), fur);
    draw(polygon(innerL), ear);
    draw(polygon(mirror(innerL)), ear);
    for (const sx of [-1, 1]) {
      draw(ellipse(sx * 0.4, -0.15, 0.18, 0.13), eye);
      draw(ellipse(sx * 0.4, -0.15, 0.05, 0.12), pupil);
    }
    draw(polygon([[-0.13, 0.17], [0.13, 0.17], [0, 0.32]]), nose);
    draw(line(0, 0.32, -0.13, 0.45, 0.035), detail);
    draw(line(0, 0.32, 0.13, 0.45, 0.035), detail);
    for (const sx of [-1, 1]) {
      for (let k = 0; k < 3; k++) draw(line(sx * 0.22, 0.3 + k * 0.07, sx * 1.4, 0.12 + k * 0.2, 0.025), detail);
    }
  } else {
    draw(ellipse(0, -0.05, 0.92, 0.95), fur);
    draw(ellipse(0, 0.48, 0.5, 0.45), ear);
    for (const sx of [-1, 1]) draw(ellipse(sx * 0.95, 0.15, 0.28, 0.75, -sx * 0.25), ear);
    for (const sx of [-1, 1]) {
      draw(ellipse(sx * 0.38, -0.25, 0.16, 0.15), eye);
      draw(ellipse(sx * 0.38, -0.25, 0.08, 0.08), pupil);
    }
    draw(ellipse(0, 0.3, 0.21, 0.14), nose);
    draw(line(0, 0.4, 0, 0.62, 0.035), detail);
    draw(ellipse(0, 0.8, 0.13, 0.17), detail);
  }

  const sigma = 2 + 8 * rand();
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(canvas.data[i] + sigma * gaussian(rand))));
  return { width, height, channels: 3, data };
}

export interface JpegEncoder {
  encode(image: { width: number; height: number; data: Uint8Array }, quality: number): Uint8Array;
}
let jpegEncoder: JpegEncoder | null | undefined;

/**
 * jpeg-js's `encode` builds a new encoder per call, whose table set-up costs ~40 ms; the
 * encoding itself of a 120×120 image takes ~1 ms. Its `JPEGEncoder` class is not exported,
 * so it is taken from the module source once and reused. Falls back to `jpeg.encode` if
 * that ever fails (a different jpeg-js layout): same bytes, only slower. Exported for the test that
 * checks the CommonJS build finds it too.
 */
export function reusableJpegEncoder(): JpegEncoder | null {
  if (jpegEncoder !== undefined) return jpegEncoder;
  try {
    const require = nodeRequire('generateCatsDogs');
    const source = nodeBuiltin('node:fs', 'generateCatsDogs').readFileSync(require.resolve('jpeg-js/lib/encoder.js'), 'utf8');
    const Encoder = new Function('module', 'exports', 'require', `${source}\n;return JPEGEncoder;`)({ exports: {} }, {}, require) as new (q: number) => JpegEncoder;
    jpegEncoder = new Encoder(90);
  } catch {
    jpegEncoder = null;
  }
  return jpegEncoder;
}

function encode(img: RawImage, format: 'png' | 'jpeg', quality: number): Uint8Array {
  const rgba = Buffer.alloc(img.width * img.height * 4, 255);
  for (let i = 0; i < img.width * img.height; i++) {
    rgba[4 * i] = img.data[3 * i];
    rgba[4 * i + 1] = img.data[3 * i + 1];
    rgba[4 * i + 2] = img.data[3 * i + 2];
  }
  if (format === 'jpeg') {
    const image = { width: img.width, height: img.height, data: rgba };
    const fast = reusableJpegEncoder();
    return fast ? Buffer.from(fast.encode(image, quality)) : jpeg.encode(image, quality).data;
  }
  return writePng(img.width, img.height, rgba, 'generateCatsDogs');
}

/**
 * Writes a synthetic cats-vs-dogs image set: `<outDir>/cats/cat.0000.png|jpg` and
 * `<outDir>/dogs/dog.0000.png|jpg`, real PNG and JPEG files. The classes differ only in
 * shape (see {@link drawCatOrDog}), not in colour or brightness; image sizes vary between
 * `minSize` and `maxSize` per side independently. Each image depends only on
 * (seed, class, index), so the same seed gives the same bytes and a larger `count` keeps the
 * earlier images.
 *
 * @example
 * await generateCatsDogs({ outDir: '.cache/cats-vs-dogs', count: 2000, catFraction: 0.25, seed: 1 });
 * const [train, val] = await imageDatasetFromDirectory('.cache/cats-vs-dogs', { imageSize: [64, 64], validationSplit: 0.2, subset: 'both', seed: 1 });
 */
export async function generateCatsDogs(options: GenerateCatsDogsOptions): Promise<GeneratedCatsDogs> {
  checkOptionKeys('generateCatsDogs', options, ['outDir', 'count', 'catFraction', 'seed', 'minSize', 'maxSize', 'format', 'photo']);
  const { outDir, count, catFraction = 0.5, seed = 0, minSize = 80, maxSize = 160, photo = false } = options;
  const format = options.format ?? (photo ? 'jpeg' : 'mixed');
  if (typeof photo !== 'boolean') throw new Error(`generateCatsDogs: photo must be true or false, got ${String(photo)}`);
  if (!Number.isInteger(count) || count < 0) throw new Error(`generateCatsDogs: count must be a non-negative integer, got ${count}`);
  if (!(catFraction >= 0 && catFraction <= 1)) throw new Error(`generateCatsDogs: catFraction must be in [0, 1], got ${catFraction}`);
  if (!Number.isInteger(minSize) || !Number.isInteger(maxSize) || minSize < 16 || maxSize < minSize) {
    throw new Error(`generateCatsDogs: need integer 16 ≤ minSize ≤ maxSize, got minSize ${minSize}, maxSize ${maxSize}`);
  }
  if (format !== 'mixed' && format !== 'png' && format !== 'jpeg') throw new Error(`generateCatsDogs: format must be 'mixed', 'png' or 'jpeg', got '${String(format)}'`);
  const cats = Math.round(count * catFraction);
  const dogs = count - cats;
  const { mkdir, writeFile } = nodeBuiltin('node:fs/promises', 'generateCatsDogs');
  const { join } = nodeBuiltin('node:path', 'generateCatsDogs');
  const files: string[] = [];
  for (const [kind, n] of [['cat', cats], ['dog', dogs]] as const) {
    const dir = join(outDir, `${kind}s`);
    await mkdir(dir, { recursive: true });
    for (let i = 0; i < n; i++) {
      const rand = mulberry32(mixSeed(seed, kind === 'cat' ? 1 : 2, i));
      const width = minSize + Math.floor(rand() * (maxSize - minSize + 1));
      const height = minSize + Math.floor(rand() * (maxSize - minSize + 1));
      const fmt = format === 'mixed' ? (rand() < 0.5 ? 'png' : 'jpeg') : format;
      const drawnQuality = 80 + Math.floor(rand() * 16);
      const quality = photo ? 85 : drawnQuality;
      const img = photo ? drawPhoto(kind, rand, width, height) : drawCatOrDog(kind, rand, width, height);
      const path = join(dir, `${kind}.${String(i).padStart(4, '0')}.${fmt === 'png' ? 'png' : 'jpg'}`);
      await writeFile(path, encode(img, fmt, quality));
      files.push(path);
    }
  }
  return { cats, dogs, files };
}
