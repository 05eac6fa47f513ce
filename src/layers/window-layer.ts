// What Conv2D, DepthwiseConv2D and SeparableConv2D share beyond KernelLayer: the input check
// against the kernel's channels, and the forward and backward of y = act(op(x, kernel) + bias)
// for a convolution op and its two gradients, so that each layer only says which op and geometry.
import { getBackend } from '../backend/index.js';
import type { Conv2DInfo } from '../geometry.js';
import { wrap, type Tensor, type Tensor4D } from '../tensor.js';
import { addInto, KernelLayer } from './kernel-layer.js';
import type { ForwardContext, Param } from './layer.js';

/** A convolution op of the Backend table, named by its forward; its gradients are `${op}BackpropInput` / `${op}BackpropFilter`. */
export type WindowOp = 'conv2d' | 'depthwiseConv2d';

/** Base of the layers whose kernel slides over an NHWC image. */
export abstract class WindowLayer extends KernelLayer {
  private lastInput: { x: Float32Array; info: Conv2DInfo } | null = null;

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
