// What Conv2D, DepthwiseConv2D and SeparableConv2D share beyond KernelLayer: the input check
// against the kernel's channels, and the forward and backward of y = act(op(x, kernel) + bias)
// for a convolution op and its two gradients, so that each layer only says which op and geometry.
import { getBackend } from '../backend/index.js';
import { pair, type Conv2DInfo, type IntPair, type Padding } from '../geometry.js';
import { wrap, type Tensor, type Tensor4D } from '../tensor.js';
import { addInto, KernelLayer, type KernelLayerConfig } from './kernel-layer.js';
import type { ForwardContext, Param } from './layer.js';

/** A convolution op of the Backend table, named by its forward; its gradients are `${op}BackpropInput` / `${op}BackpropFilter`. */
export type WindowOp = 'conv2d' | 'depthwiseConv2d';

/** Checks a padding option, naming the layer. */
export function checkPadding(padding: unknown, owner: string): Padding {
  if (padding !== 'valid' && padding !== 'same') throw new Error(`${owner}: padding must be 'valid' or 'same', got ${JSON.stringify(padding)}`);
  return padding;
}

/** The window options as a layer's config gives them. */
export interface WindowConfig {
  kernelSize: IntPair;
  strides?: IntPair;
  dilationRate?: IntPair;
  padding?: Padding;
}

/** The window options of a convolution layer (Conv2D, DepthwiseConv2D, SeparableConv2D). */
export interface WindowOptions {
  kernelSize: [number, number];
  strides: [number, number];
  dilationRate: [number, number];
  padding: Padding;
}

/** Validates a convolution layer's kernelSize, strides (default 1), dilationRate (default 1) and padding (default 'valid'). */
export function windowOptions(
  config: WindowConfig, owner: string,
): WindowOptions {
  const kernelSize = pair(config.kernelSize, 'kernelSize', owner);
  const strides = pair(config.strides ?? 1, 'strides', owner);
  const dilationRate = pair(config.dilationRate ?? 1, 'dilationRate', owner);
  if ((strides[0] > 1 || strides[1] > 1) && (dilationRate[0] > 1 || dilationRate[1] > 1)) {
    throw new Error(`${owner}: strides > 1 together with dilationRate > 1 is not supported (as in Keras)`);
  }
  return { kernelSize, strides, dilationRate, padding: checkPadding(config.padding ?? 'valid', owner) };
}

/** Base of the layers whose kernel slides over an NHWC image; the constructor validates the window options. */
export abstract class WindowLayer extends KernelLayer {
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly dilationRate: [number, number];
  readonly padding: Padding;
  private lastInput: { x: Float32Array; info: Conv2DInfo } | null = null;

  /** Checks `filters` first where the layer has that option (Conv2D, SeparableConv2D), then the window options. */
  protected constructor(config: KernelLayerConfig & WindowConfig & { filters?: number }, className: string, ownKeys: readonly string[], kernelName?: string) {
    super(config, className, ownKeys, kernelName);
    if (ownKeys.includes('filters') && (!Number.isInteger(config.filters) || config.filters! < 1)) {
      throw new Error(`${this.owner}: filters must be a positive integer, got ${config.filters}`);
    }
    ({ kernelSize: this.kernelSize, strides: this.strides, dilationRate: this.dilationRate, padding: this.padding } = windowOptions(config, this.owner));
  }

  /** x's shape `[batch, height, width, channels]`; throws unless x is rank 4 with the kernel's input channels (its shape[2]). */
  protected checkedInput(x: Tensor): [number, number, number, number] {
    if (!this.kernel) throw new Error(`${this.owner}: called before the layer was built`);
    const inC = this.kernel.shape[2];
    if (x.rank !== 4 || x.shape[3] !== inC) throw new Error(`${this.owner}: expects input (None, height, width, ${inC}), got [${x.shape.join(', ')}]`);
    return x.shape as [number, number, number, number];
  }

  /** op(x, kernel) → biasAdd → activation, each its own op; keeps x and info for {@link backwardOp} when training. */
  protected forwardOp(op: WindowOp, x: Tensor, info: Conv2DInfo, ctx: ForwardContext): Tensor4D {
    const z = getBackend()[op](x.values, this.kernel!.value, info);
    const y = this.biasAndActivation(z, info.outChannels, ctx.training);
    this.lastInput = ctx.training ? { x: x.values, info } : null;
    return wrap<4>(y, [info.batch, info.outHeight, info.outWidth, info.outChannels]);
  }

  /** The backward of {@link forwardOp}: adds the bias and kernel gradients, returns dx when asked. */
  protected backwardOp(op: WindowOp, dy: Tensor, needInputGrad: boolean): Tensor4D | null {
    if (!this.lastInput) throw this.noForward();
    const { x, info } = this.lastInput;
    this.lastInput = null;
    const dz = this.activationAndBiasBackward(dy.values, info.outChannels);
    const dx = kernelBackward(op, x, dz, this.kernel!, info, needInputGrad);
    return dx && wrap<4>(dx, [info.batch, info.inHeight, info.inWidth, info.inChannels]);
  }
}

/** The backward of dz = op(x, w.value): adds dw into w.grad when w is trainable; returns dx, or null unless `needInputGrad`. */
export function kernelBackward(op: WindowOp, x: Float32Array, dz: Float32Array, w: Param, info: Conv2DInfo, needInputGrad: boolean): Float32Array | null {
  const b = getBackend();
  if (w.trainable) addInto(w.grad, b[`${op}BackpropFilter`](x, dz, info));
  return needInputGrad ? b[`${op}BackpropInput`](dz, w.value, info) : null;
}
