import { getBackend } from '../backend/index.js';
import { pad2dInfo, type Pad2DInfo } from '../geometry.js';
import { wrap, type Tensor, type Tensor4D } from '../tensor.js';
import { expectImageShape } from './conv2d.js';
import { checkKeys, Layer, type LayerConfig } from './layer.js';

/** Rows and columns of zeros: one count for all four sides, `[h, w]` (each on both sides), or `[[top, bottom], [left, right]]`. */
export type ZeroPadding = number | [number, number] | [[number, number], [number, number]];

/** Options of {@link ZeroPadding2D}. */
export interface ZeroPadding2DConfig extends LayerConfig {
  /** Default 1: one row and column of zeros on every side, as Keras. */
  padding?: ZeroPadding;
  /** Only 'channelsLast' (NHWC), the default. */
  dataFormat?: 'channelsLast';
}

function parsePadding(p: unknown, owner: string): [[number, number], [number, number]] {
  const ok = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
  if (ok(p)) return [[p, p], [p, p]];
  if (Array.isArray(p) && p.length === 2) {
    if (ok(p[0]) && ok(p[1])) return [[p[0], p[0]], [p[1], p[1]]];
    const [h, w] = p as unknown[];
    if (Array.isArray(h) && Array.isArray(w) && h.length === 2 && w.length === 2 && [...h, ...w].every(ok)) {
      return [[h[0], h[1]], [w[0], w[1]]];
    }
  }
  throw new Error(`${owner}: padding must be a non-negative integer, [h, w] or [[top, bottom], [left, right]], got ${JSON.stringify(p)}`);
}

/**
 * Adds rows and columns of zeros around each image (NHWC), as Keras' ZeroPadding2D.
 *
 * @example
 * new layers.ZeroPadding2D({ padding: [[0, 1], [0, 1]] }); // [None, 32, 32, 3] → [None, 33, 33, 3]
 */
export class ZeroPadding2D extends Layer {
  readonly className = 'ZeroPadding2D';
  /** [[top, bottom], [left, right]]. */
  readonly padding: [[number, number], [number, number]];
  private saved: Pad2DInfo | null = null;

  constructor(config: ZeroPadding2DConfig = {}) {
    super(config, 'ZeroPadding2D');
    checkKeys('ZeroPadding2D', config, ['padding', 'dataFormat']);
    const owner = `ZeroPadding2D '${this.name}'`;
    if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') {
      throw new Error(`${owner}: dataFormat must be 'channelsLast' (tscnn is NHWC only), got ${JSON.stringify(config.dataFormat)}`);
    }
    this.padding = parsePadding(config.padding ?? 1, owner);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    const [h, w, c] = expectImageShape(inputShape, `ZeroPadding2D '${this.name}'`);
    const info = pad2dInfo([1, h, w, c], this.padding);
    return [info.outHeight, info.outWidth, c];
  }

  forward(x: Tensor): Tensor4D {
    if (x.rank !== 4) throw new Error(`ZeroPadding2D '${this.name}': expects a rank-4 input, got [${x.shape.join(', ')}]`);
    const info = pad2dInfo(x.shape as [number, number, number, number], this.padding);
    this.saved = info;
    return wrap<4>(getBackend().zeroPad2d(x.values, info), [info.batch, info.outHeight, info.outWidth, info.channels]);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor4D | null {
    const info = this.saved;
    if (!info) throw this.noForward();
    if (!needInputGrad) return null;
    return wrap<4>(getBackend().zeroPad2dBackprop(dy.values, info), [info.batch, info.inHeight, info.inWidth, info.channels]);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), padding: this.padding.map((p) => [...p]) };
  }
}
