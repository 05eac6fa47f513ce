// The Keras user's seed model (examples/lib/user-model.ts' buildUserModel, layer for layer) for the
// pages that run tscnn's browser bundle: the example page (app.js) and the Chromium test's harness
// (test/browser/harness.js), which is served with this folder as one of its roots.
import { layers, Sequential } from './index.browser.js';

/** The seed model for size×size×3 images; `dropoutRate` 0.5 as the user wrote it (the test uses 0). */
export function buildSeedModel(size, dropoutRate = 0.5) {
  const model = new Sequential({ name: 'cats_vs_dogs' });
  model.add(new layers.Conv2D({ filters: 16, kernelSize: 3, padding: 'same', inputShape: [size, size, 3] }));
  model.add(new layers.BatchNormalization());
  model.add(new layers.Activation('relu'));
  model.add(new layers.MaxPooling2D({ poolSize: 2 }));
  model.add(new layers.Conv2D({ filters: 32, kernelSize: 3, activation: 'relu', padding: 'same' }));
  model.add(new layers.MaxPooling2D({ poolSize: 2 }));
  model.add(new layers.Conv2D({ filters: 64, kernelSize: 3, activation: 'relu', padding: 'same' }));
  model.add(new layers.MaxPooling2D({ poolSize: 2 }));
  model.add(new layers.Conv2D({ filters: 128, kernelSize: 3, activation: 'relu', padding: 'same' }));
  model.add(new layers.MaxPooling2D({ poolSize: 2 }));
  model.add(new layers.Dropout({ rate: dropoutRate }));
  model.add(new layers.Flatten());
  model.add(new layers.Dense({ units: 150 }));
  model.add(new layers.Activation('relu'));
  model.add(new layers.Dropout({ rate: dropoutRate }));
  model.add(new layers.BatchNormalization());
  model.add(new layers.Dense({ units: 1, activation: 'sigmoid' }));
  return model;
}
