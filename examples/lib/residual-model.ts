import { input, layers, model, type Model, type SymbolicTensor } from '../../src/index.js';

/** Two 3×3 convolutions with a shortcut around them: relu(conv(relu(conv(x))) + shortcut(x)). */
function residualBlock(x: SymbolicTensor, filters: number, name: string): SymbolicTensor {
  const h = new layers.Conv2D({ filters, kernelSize: 3, padding: 'same', activation: 'relu', name: `${name}_conv1` }).apply(x);
  const f = new layers.Conv2D({ filters, kernelSize: 3, padding: 'same', name: `${name}_conv2` }).apply(h);
  const channels = x.sampleShape[x.sampleShape.length - 1];
  const shortcut = channels === filters ? x : new layers.Conv2D({ filters, kernelSize: 1, name: `${name}_shortcut` }).apply(x);
  const sum = new layers.Add({ name: `${name}_add` }).apply([f, shortcut]);
  return new layers.Activation({ activation: 'relu', name: `${name}_relu` }).apply(sum);
}

/**
 * The small residual network of examples/residual.ts (functional API), for square RGB images of
 * `size`: a Conv/BatchNormalization/relu/pool stem, two residual blocks (the second with a 1×1
 * shortcut), global average pooling and a sigmoid unit.
 */
export function buildResidualModel(size: number): Model {
  const x = input({ shape: [size, size, 3], name: 'image' });
  // Conv2D → BatchNormalization → relu → MaxPooling2D: a linear run, fused as in Sequential.
  let h = new layers.Conv2D({ filters: 16, kernelSize: 3, padding: 'same', name: 'stem_conv' }).apply(x);
  h = new layers.BatchNormalization({ name: 'stem_bn' }).apply(h);
  h = new layers.Activation({ activation: 'relu', name: 'stem_relu' }).apply(h);
  h = new layers.MaxPooling2D({ poolSize: 2, name: 'stem_pool' }).apply(h);
  h = residualBlock(h, 16, 'block1');
  h = new layers.MaxPooling2D({ poolSize: 2, name: 'pool1' }).apply(h);
  h = residualBlock(h, 32, 'block2');
  h = new layers.GlobalAveragePooling2D({ name: 'gap' }).apply(h);
  const y = new layers.Dense({ units: 1, activation: 'sigmoid', name: 'classifier' }).apply(h);
  return model({ inputs: x, outputs: y, name: 'residual' });
}
