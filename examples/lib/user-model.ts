import { layers, Sequential } from '../../src/index.js';

/**
 * The Keras user's model, layer for layer (see issue 2), for square RGB images of `imageSize`.
 * At 100×100 it has 789,605 parameters.
 */
export function buildUserModel(imageSize: number): Sequential {
  const model = new Sequential({ name: 'cats_vs_dogs' });
  model.add(new layers.Conv2D({ filters: 16, kernelSize: 3, padding: 'same', inputShape: [imageSize, imageSize, 3] }));
  model.add(new layers.BatchNormalization());
  model.add(new layers.Activation('relu'));
  model.add(new layers.MaxPooling2D({ poolSize: 2 }));
  model.add(new layers.Conv2D({ filters: 32, kernelSize: 3, activation: 'relu', padding: 'same' }));
  model.add(new layers.MaxPooling2D({ poolSize: 2 }));
  model.add(new layers.Conv2D({ filters: 64, kernelSize: 3, activation: 'relu', padding: 'same' }));
  model.add(new layers.MaxPooling2D({ poolSize: 2 }));
  model.add(new layers.Conv2D({ filters: 128, kernelSize: 3, activation: 'relu', padding: 'same' }));
  model.add(new layers.MaxPooling2D({ poolSize: 2 }));
  model.add(new layers.Dropout({ rate: 0.5 }));
  model.add(new layers.Flatten());
  model.add(new layers.Dense({ units: 150 }));
  model.add(new layers.Activation('relu'));
  model.add(new layers.Dropout({ rate: 0.5 }));
  model.add(new layers.BatchNormalization());
  model.add(new layers.Dense({ units: 1, activation: 'sigmoid' }));
  return model;
}
