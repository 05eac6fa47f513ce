// Classifies image files with a model saved by the cats-vs-dogs example (or any tscnn / TF.js
// LayersModel with one sigmoid output).
//
//   npm run classify -- examples/out/model photo.jpg [more.png …] [--classes cats,dogs] [--rescale 0.00392156862745098]
import { parseArgs } from 'node:util';
import { loadImage, loadModel, tensor, type Tensor } from '../src/index.js';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    classes: { type: 'string', default: 'cats,dogs' },
    rescale: { type: 'string', default: String(1 / 255) },
    threshold: { type: 'string', default: '0.5' },
  },
});
const [modelDir, ...images] = positionals;
if (!modelDir || images.length === 0) {
  console.error('Usage: npm run classify -- MODEL_DIR IMAGE [IMAGE …] [--classes cats,dogs] [--rescale X] [--threshold 0.5]');
  process.exit(2);
}
const classes = String(opts.classes).split(',');
const rescale = Number(opts.rescale);
const threshold = Number(opts.threshold);

const model = await loadModel(modelDir);
const [height, width, channels] = model.inputShape;
if (channels !== 3 && channels !== 1) throw new Error(`classify: the model takes ${channels} channels; expected 1 or 3`);
for (const path of images) {
  const img = await loadImage(path, { targetSize: [height, width], colorMode: channels === 1 ? 'grayscale' : 'rgb' });
  const x = tensor(img.values.map((v) => v * rescale), [1, height, width, channels]);
  const [p] = await ((await model.predict(x)) as Tensor).data();
  const label = p > threshold ? classes[1] : classes[0];
  console.log(`${path}: ${label} (p(${classes[1]}) = ${p.toFixed(4)})`);
}
