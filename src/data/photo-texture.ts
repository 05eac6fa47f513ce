import type { RawImage } from '../image/decode.js';
import { resizeImage } from '../image/resize.js';
import { drawCatOrDog } from './synthetic-cats-dogs.js';

/**
 * Value noise on a lattice of `cell` pixels: random values at the lattice points, smoothly
 * interpolated (smoothstep) in between, in [-1, 1]. Summed over octaves it gives the 1/f-like
 * spectrum of natural scenes, which is what makes a photograph expensive to code and decode
 * (flat colour areas compress to almost nothing, and white noise to far too much).
 */
function addValueNoise(out: Float32Array, width: number, height: number, cell: number, amplitude: number, rand: () => number): void {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = rand() * 2 - 1;
  for (let y = 0; y < height; y++) {
    const fy = y / cell;
    const gy = Math.floor(fy);
    let ty = fy - gy;
    ty = ty * ty * (3 - 2 * ty);
    for (let x = 0; x < width; x++) {
      const fx = x / cell;
      const gx = Math.floor(fx);
      let tx = fx - gx;
      tx = tx * tx * (3 - 2 * tx);
      const a = grid[gy * gw + gx];
      const b = grid[gy * gw + gx + 1];
      const c = grid[(gy + 1) * gw + gx];
      const d = grid[(gy + 1) * gw + gx + 1];
      out[y * width + x] += amplitude * ((a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty);
    }
  }
}

/**
 * Turns a drawn image into a photograph-like one, in place: a lighting gradient, a
 * multi-octave luminance texture (cells of 96 down to 2 pixels, amplitude falling with the
 * cell size), a weaker independent colour texture per channel, and sensor grain. The
 * parameters are drawn from `rand` with one distribution for every image, so the texture
 * carries no class information. Calibrated so that 500×375 images at JPEG quality 85 take
 * 25–40 KB, as the photos of the Kaggle cats-vs-dogs set do.
 *
 * @param image RGB pixels `[height, width, 3]`, modified in place
 * @example
 * addPhotoTexture(drawCatOrDog('cat', rand, 500, 375), rand);
 */
export function addPhotoTexture(image: RawImage, rand: () => number): void {
  const { width, height, data } = image;
  const n = width * height;
  const lum = new Float32Array(n);
  const strength = 0.45 + 0.5 * rand();
  for (const [cell, amp] of [[96, 0.3], [48, 0.22], [24, 0.16], [12, 0.12], [6, 0.06], [3, 0.035]] as const) {
    addValueNoise(lum, width, height, cell, amp * strength, rand);
  }
  const tint = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (const t of tint) addValueNoise(t, width, height, 40, 0.08, rand);
  const angle = rand() * 2 * Math.PI;
  const lx = Math.cos(angle) / width;
  const ly = Math.sin(angle) / height;
  const light = 0.25 * rand();
  const grain = 1 + 2 * rand();
  for (let i = 0; i < n; i++) {
    const x = i % width;
    const y = (i - x) / width;
    const shade = (1 + lum[i] + light * ((x - width / 2) * lx + (y - height / 2) * ly));
    for (let k = 0; k < 3; k++) {
      // Sum of two uniforms: a cheap, bounded stand-in for Gaussian grain.
      const noise = grain * (rand() + rand() - 1);
      const v = data[3 * i + k] * (shade + tint[k][i]) + noise;
      data[3 * i + k] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
    }
  }
}

/**
 * A photograph-like cat or dog of `width`×`height`: the face of {@link drawCatOrDog} drawn at
 * half the size and enlarged (bilinear; a camera's optics blur edges too, and drawing at full
 * size costs four times as much), then {@link addPhotoTexture}.
 *
 * @example
 * const img = drawPhoto('dog', mulberry32(3), 500, 375); // RawImage, channels 3
 */
export function drawPhoto(kind: 'cat' | 'dog', rand: () => number, width: number, height: number): RawImage {
  const small = drawCatOrDog(kind, rand, Math.max(8, Math.round(width / 2)), Math.max(8, Math.round(height / 2)));
  const big = resizeImage(small, [height, width], 'bilinear').data;
  const data = new Uint8Array(big.length);
  for (let i = 0; i < big.length; i++) data[i] = Math.round(big[i]);
  const image: RawImage = { width, height, channels: 3, data };
  addPhotoTexture(image, rand);
  return image;
}
