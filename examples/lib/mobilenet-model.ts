import { layers, Sequential } from '../../src/index.js';

/** Conv (or depthwise) → BatchNormalization → ReLU(6), MobileNet's unit. */
function unit(model: Sequential, conv: layers.Layer): void {
  model.add(conv);
  model.add(new layers.BatchNormalization());
  model.add(new layers.ReLU({ maxValue: 6 }));
}

/**
 * The MobileNet-style network of examples/mobilenet.ts for square RGB images of `size`:
 * depthwise-separable blocks, batch normalization, ReLU(6), global average pooling, Dropout
 * (seeded with `seed`) and a sigmoid unit.
 */
export function buildMobileNetModel(size: number, seed: number): Sequential {
  const model = new Sequential();
  unit(model, new layers.Conv2D({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', useBias: false, inputShape: [size, size, 3] }));
  // Depthwise-separable blocks: a 3×3 depthwise convolution, then a 1×1 convolution that mixes channels.
  for (const [filters, strides] of [[32, 1], [64, 2]] as const) {
    unit(model, new layers.DepthwiseConv2D({ kernelSize: 3, strides, padding: 'same', useBias: false }));
    unit(model, new layers.Conv2D({ filters, kernelSize: 1, useBias: false }));
  }
  unit(model, new layers.SeparableConv2D({ filters: 128, kernelSize: 3, strides: 2, padding: 'same', useBias: false }));
  model.add(new layers.GlobalAveragePooling2D());
  model.add(new layers.Dropout({ rate: 0.2, seed }));
  model.add(new layers.Dense({ units: 1, activation: 'sigmoid' }));
  return model;
}
