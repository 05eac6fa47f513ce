// The page of examples/browser: builds the built-in cats-vs-dogs images in the page
// (catsDogsTensors), trains the seed model (the Keras user's model of issue 2, at a smaller image
// size for speed) with Keras-style progress and live charts, shows the confusion matrix and
// classifies dropped photos. Served by `npm run example:browser` (examples/browser/serve.ts).
import * as tscnn from './index.browser.js';
import { buildSeedModel } from './seed-model.js';

const $ = (id) => document.getElementById(id);
const log = (line) => {
  $('log').textContent += `${line}\n`;
  $('log').scrollTop = $('log').scrollHeight;
};
// fit's Keras-style progress lines go to console.log in a page; show them here as well.
const consoleLog = console.log.bind(console);
console.log = (...args) => {
  consoleLog(...args);
  log(args.join(' '));
};

/** A line chart of train (solid) and validation (dashed) values per epoch, on a plain canvas. */
function chart(id, title, train, val, epochs) {
  const c = $(id);
  const g = c.getContext('2d');
  const w = c.width;
  const h = c.height;
  g.clearRect(0, 0, w, h);
  g.fillStyle = '#000';
  g.font = '12px sans-serif';
  const all = [...train, ...val].filter(Number.isFinite);
  const hi = Math.max(1e-6, ...all);
  const lo = Math.min(0, ...all);
  g.fillText(`${title} (max ${hi.toFixed(3)})   — train  - - validation`, 6, 14);
  const x = (i) => 30 + (i * (w - 40)) / Math.max(1, epochs - 1);
  const y = (v) => h - 16 - ((v - lo) / (hi - lo)) * (h - 40);
  g.strokeStyle = '#bbb';
  g.strokeRect(30, 24, w - 40, h - 40);
  for (const [series, dash, colour] of [[train, [], '#1565c0'], [val, [5, 4], '#c62828']]) {
    g.setLineDash(dash);
    g.strokeStyle = colour;
    g.beginPath();
    series.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) : g.moveTo(x(i), y(v))));
    g.stroke();
  }
  g.setLineDash([]);
}

let model = null;
let size = 48;

async function useBackend(choice) {
  if (choice === 'reference') tscnn.setBackend('reference');
  else if (choice.startsWith('gpu')) {
    // gpu.js loads on first use (dist/gpujs.browser.js, beside the bundle).
    await tscnn.loadGpuBackend();
    const backend = tscnn.setBackend('gpu', { mode: choice === 'gpu-webgl' ? 'webgl' : 'webgl2' });
    log(`backend ${backend.name}: gpu.js kernels on the page's WebGL context (on a software renderer such as SwiftShader, slower than cpu)`);
    return;
  } else tscnn.setBackend('cpu', choice === 'cpu1' ? { threads: 1 } : {});
  const info = await tscnn.startEngineThreads();
  log(`backend ${choice}: ${JSON.stringify(info)}`);
}

function confusion(probs, labels) {
  const m = [[0, 0], [0, 0]];
  for (let i = 0; i < labels.length; i++) m[labels[i]][probs[i] >= 0.5 ? 1 : 0]++;
  $('cm').innerHTML =
    '<tr><th></th><th>predicted cat</th><th>predicted dog</th></tr>' +
    `<tr><th>cat</th><td>${m[0][0]}</td><td>${m[0][1]}</td></tr>` +
    `<tr><th>dog</th><td>${m[1][0]}</td><td>${m[1][1]}</td></tr>`;
}

async function train() {
  $('train').disabled = true;
  try {
    size = Number($('size').value);
    const count = Number($('count').value);
    const epochs = Number($('epochs').value);
    await useBackend($('backend').value);
    let t0 = performance.now();
    const { x, y } = tscnn.catsDogsTensors({ count, size, seed: 1 });
    log(`drew ${count} cats and dogs at ${size}×${size} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    tscnn.setSeed(1);
    model = buildSeedModel(size);
    model.compile({ optimizer: new tscnn.optimizers.Adam({ learningRate: 1e-3 }), loss: 'binaryCrossentropy', metrics: ['precision', 'recall', 'accuracy'] });
    const h = { loss: [], val_loss: [], precision: [], val_precision: [], recall: [], val_recall: [] };
    const draw = () => {
      chart('loss', 'loss', h.loss, h.val_loss, epochs);
      chart('precision', 'precision', h.precision, h.val_precision, epochs);
      chart('recall', 'recall', h.recall, h.val_recall, epochs);
    };
    t0 = performance.now();
    await model.fit(x, y, {
      epochs,
      batchSize: 32,
      validationSplit: 0.2,
      verbose: 1,
      seed: 1,
      callbacks: [new tscnn.LambdaCallback({ onEpochEnd: (_e, logs) => { for (const k of Object.keys(h)) h[k].push(logs[k]); draw(); } })],
    });
    const b = tscnn.getBackend();
    log(`trained in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${b.name}${b.kernelClasses ? ` (gpu.js kernels: ${b.kernelClasses().join(', ')})` : ''}`);
    const nVal = Math.round(count * 0.2);
    const per = size * size * 3;
    const xs = tscnn.tensor(x.values.slice((count - nVal) * per), [nVal, size, size, 3]);
    const probs = (await model.predict(xs)).values;
    confusion(probs, Array.from(y.values.slice(count - nVal)));
    $('save').disabled = false;
    $('download').disabled = false;
  } catch (e) {
    log(`error: ${e.stack ?? e}`);
  } finally {
    $('train').disabled = false;
  }
}

async function classify(files) {
  if (!model) {
    $('verdict').textContent = 'train or load a model first';
    return;
  }
  const out = [];
  for (const file of files) {
    try {
      const img = await tscnn.fromPixels(file, { targetSize: [size, size] });
      const x = tscnn.tensor(img.values.map((v) => v / 255), [1, size, size, 3]);
      const p = (await model.predict(x)).values[0];
      out.push(`${file.name}: ${p >= 0.5 ? 'dog' : 'cat'} (p(dog) = ${p.toFixed(3)})`);
    } catch (e) {
      out.push(`${file.name}: ${e.message}`);
    }
  }
  $('verdict').textContent = out.join('; ');
}

$('train').onclick = train;
$('save').onclick = async () => {
  await tscnn.saveModel(model, 'indexeddb://cats-vs-dogs');
  log("saved to 'indexeddb://cats-vs-dogs'");
};
$('download').onclick = () => tscnn.saveModel(model, 'downloads://cats-vs-dogs');
$('load').onclick = async () => {
  try {
    model = await tscnn.loadModel('indexeddb://cats-vs-dogs');
    size = model.layers[0].getConfig().inputShape?.[0] ?? size;
    log(`loaded 'indexeddb://cats-vs-dogs' (${model.countParams()} parameters, ${size}×${size})`);
  } catch (e) {
    log(`error: ${e.message}`);
  }
};
const drop = $('drop');
drop.ondragover = (e) => {
  e.preventDefault();
  drop.classList.add('over');
};
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  void classify([...e.dataTransfer.files]);
};
$('pick').onchange = (e) => void classify([...e.target.files]);

$('env').textContent = `cross-origin isolated: ${self.crossOriginIsolated} (threads need it), cores: ${navigator.hardwareConcurrency}`;
globalThis.exampleReady = true;
