// tscnn's browser image and model functions in headless Chromium against the same functions in
// Node: fromPixels / loadImage on Blob, File, ImageBitmap, <img> and ImageData; saveModel /
// loadModel with 'indexeddb://' (read back by tscnn and by TF.js), 'downloads://' (loaded in Node)
// and browserFiles. Skips, saying so, where no Chromium is installed.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeImage, loadModel } from '../src/index.js';
import { prepareImage } from '../src/image/load.js';
import { writePng } from '../src/image/png-codec.js';
import { drawCatOrDog } from '../src/data/synthetic-cats-dogs.js';
import { mulberry32 } from '../src/util/data-random.js';
import { findChromium, startHarness, type HarnessSession } from './browser/chromium.js';
import { assertClose, assertIdentical } from './helpers.js';

const chromium = findChromium();
let session: HarnessSession | null = null;

test.before(async () => {
  if (!chromium) {
    console.log('browser-io.test: SKIPPED: no Chromium found (/usr/bin/chromium, or set CHROMIUM_PATH; Debian: apt-get install chromium)');
    return;
  }
  session = await startHarness(chromium);
});
test.after(async () => {
  await session?.close();
});

// A 40×30 synthetic cat as PNG and JPEG bytes.
const cat = drawCatOrDog('cat', mulberry32(3), 40, 30);
const rgba = new Uint8Array(40 * 30 * 4).fill(255);
for (let i = 0; i < 40 * 30; i++) for (let c = 0; c < 3; c++) rgba[4 * i + c] = cat.data[3 * i + c];
const png = writePng(40, 30, rgba, 'test');
const jpg = new Uint8Array(jpeg.encode({ width: 40, height: 30, data: rgba }, 90).data);

test('Chromium: fromPixels / loadImage on Blob, File, ImageBitmap, <img>, ImageData give the Node decoders\' pixels', async () => {
  if (!session) return;
  const page = await session.open(false);
  try {
    const got = await page.evaluate(async (pngB64: string, jpgB64: string) => {
      const t = (globalThis as unknown as { tscnn: typeof import('../src/index.js') }).tscnn;
      const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const g = globalThis as unknown as Record<string, any>;
      const pngBlob = new g.Blob([bytes(pngB64)], { type: 'image/png' });
      const jpgFile = new g.File([bytes(jpgB64)], 'cat.jpg', { type: 'image/jpeg' });
      const arr = async (p: Promise<import('../src/index.js').Tensor>) => { const x = await p; return { shape: x.shape, values: Array.from(x.values) }; };
      const bitmap = await g.createImageBitmap(pngBlob);
      const img = new g.Image();
      img.src = g.URL.createObjectURL(pngBlob);
      await img.decode();
      const rgbaData = new Uint8ClampedArray(2 * 1 * 4).map((_, i) => i * 10);
      return {
        pngBlob: await arr(t.fromPixels(pngBlob)),
        jpgFile: await arr(t.loadImage(jpgFile)),
        bitmap: await arr(t.fromPixels(bitmap)),
        img: await arr(t.fromPixels(img)),
        imageData: await arr(t.fromPixels(new g.ImageData(rgbaData, 2, 1))),
        resized: await arr(t.loadImage(pngBlob, { targetSize: [16, 12], colorMode: 'grayscale' })),
        bad: await t.fromPixels(new g.Blob([new Uint8Array([1, 2, 3])])).then(() => 'no error', (e: Error) => e.message),
        // Synchronous, in the bundle's own decoder (fflate + png-codec.browser.ts).
        decoded: Array.from(t.decodeImage(bytes(pngB64), 'cat.png').data),
        badPng: (() => {
          const b = bytes(pngB64);
          b[b.length - 1] ^= 1;
          try {
            t.decodeImage(b, 'broken.png');
            return 'no error';
          } catch (e) {
            return (e as Error).message;
          }
        })(),
      };
    }, Buffer.from(png).toString('base64'), Buffer.from(jpg).toString('base64'));
    const nodePng = decodeImage(png, 'cat.png');
    const nodeJpg = decodeImage(jpg, 'cat.jpg');
    assert.equal(got.pngBlob.shape, [30, 40, 3]);
    assertIdentical(got.pngBlob.values, nodePng.data, 'PNG Blob (browser decoder) vs pngjs');
    assertIdentical(got.jpgFile.values, nodeJpg.data, 'JPEG File (jpeg-js) vs Node');
    assertIdentical(got.bitmap.values, nodePng.data, 'ImageBitmap');
    assertIdentical(got.img.values, nodePng.data, '<img>');
    assert.equal(got.imageData, { shape: [1, 2, 3], values: [0, 10, 20, 40, 50, 60] });
    const nodeResized = prepareImage(png, 'cat.png', { targetSize: [16, 12], colorMode: 'grayscale' });
    assert.equal(got.resized.shape, [16, 12, 1]);
    assertClose(got.resized.values, nodeResized.data, { atol: 1e-4, rtol: 1e-6 }, 'loadImage(blob, { targetSize, grayscale })');
    assert.ok(got.bad.startsWith('fromPixels: cannot decode Blob'), got.bad);
    assertIdentical(got.decoded, nodePng.data, 'decodeImage(PNG bytes) in the page vs pngjs');
    assert.match(got.badPng, /broken\.png.*CRC error in chunk IEND/);
  } finally {
    await page.close();
  }
});

test("Chromium: saveModel/loadModel with 'indexeddb://' (also read by TF.js), browserFiles, and 'downloads://' loaded in Node", async () => {
  if (!session) return;
  const page = await session.open(false);
  const downloads = mkdtempSync(join(tmpdir(), 'tscnn-downloads-'));
  try {
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    const got = await page.evaluate(async () => {
      const t = (globalThis as unknown as { tscnn: typeof import('../src/index.js') }).tscnn;
      const g = globalThis as unknown as Record<string, any>;
      t.setBackend('cpu', { threads: 1 });
      t.setSeed(5);
      const model = new t.Sequential({ name: 'small' });
      model.add(new t.layers.Conv2D({ filters: 3, kernelSize: 3, activation: 'relu', inputShape: [6, 6, 2] }));
      model.add(new t.layers.Flatten());
      model.add(new t.layers.Dense({ units: 2, activation: 'softmax' }));
      model.compile({ optimizer: new t.optimizers.Adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy' });
      const flat = (ws: Float32Array[]) => ws.flatMap((w) => Array.from(w));
      await t.saveModel(model, 'indexeddb://small');
      // After the save, which draws the initial weights.
      const saved = flat(model.getWeightValues());
      const fromIdb = flat((await t.loadModel('indexeddb://small')).getWeightValues());
      const missing = await t.loadModel('indexeddb://nothing-here').then(() => 'no error', (e: Error) => e.message);
      const { modelJSON, weights } = t.toMemory(model);
      const files = [new g.File([JSON.stringify(modelJSON)], 'model.json'), new g.File([weights], 'weights.bin')];
      const fromFiles = flat((await t.loadModel(t.browserFiles(files))).getWeightValues());
      await t.saveModel(model, 'downloads://small');
      // TF.js' own browser build reads the IndexedDB record.
      await new Promise((ok, fail) => { const s = g.document.createElement('script'); s.src = 'tf.min.js'; s.onload = ok; s.onerror = fail; g.document.head.append(s); });
      const tfModel = await g.tf.loadLayersModel('indexeddb://small');
      const fromTfjs = tfModel.getWeights().flatMap((w: { dataSync(): Float32Array }) => Array.from(w.dataSync()));
      return { saved, fromIdb, fromFiles, fromTfjs, missing };
    });
    assert.ok(got.saved.length > 50, String(got.saved.length));
    assertIdentical(got.fromIdb, got.saved, "indexeddb:// round trip");
    assertIdentical(got.fromFiles, got.saved, 'browserFiles');
    assertIdentical(got.fromTfjs, got.saved, 'TF.js tf.loadLayersModel(indexeddb://) of a tscnn save');
    assert.ok(got.missing.includes("no model saved at 'indexeddb://nothing-here'"), got.missing);
    for (let i = 0; i < 100 && readdirSync(downloads).filter((f) => !f.endsWith('.crdownload')).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(readdirSync(downloads).sort(), ['small.json', 'small.weights.bin']);
    const inNode = await loadModel(join(downloads, 'small.json'));
    assertIdentical(inNode.getWeightValues().flatMap((w) => Array.from(w)), got.saved, 'downloads:// loaded in Node');
  } finally {
    await page.close();
  }
});

test.run();
