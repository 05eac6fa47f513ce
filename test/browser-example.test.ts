// examples/browser in headless Chromium: the page draws the cats and dogs, trains the seed model
// (small settings), fills the confusion matrix and classifies a picked photo. Skips, saying so,
// where no Chromium is installed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { drawCatOrDog } from '../src/data/synthetic-cats-dogs.js';
import { mulberry32 } from '../src/util/data-random.js';
import { findChromium, startHarness, type HarnessSession } from './browser/chromium.js';
import { serveStatic, type StaticServer } from './browser/serve.js';

const root = resolve(import.meta.dirname, '..');
const chromium = findChromium();
let session: HarnessSession | null = null;
let server: StaticServer | null = null;

test.before(async () => {
  if (!chromium) {
    console.log('browser-example.test: SKIPPED: no Chromium found (/usr/bin/chromium, or set CHROMIUM_PATH)');
    return;
  }
  session = await startHarness(chromium);
  // The bundle startHarness built, beside the example's page, cross-origin isolated as `npm run example:browser` serves it.
  server = await serveStatic([join(root, '.cache', 'browser-test'), join(root, 'examples', 'browser')], { isolated: true });
});
test.after(async () => {
  await server?.close();
  await session?.close();
});

test('examples/browser: trains with progress and charts, fills the confusion matrix, classifies a picked photo', async () => {
  if (!session || !server) return;
  const page = await session.browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(server.url);
    await page.waitForFunction('globalThis.exampleReady === true', { timeout: 60_000, polling: 250 });
    assert.ok((await page.$eval('#env', (e) => e.textContent ?? '')).includes('cross-origin isolated: true'));
    await page.$eval('#count', (e) => ((e as unknown as { value: string }).value = '80'));
    await page.$eval('#size', (e) => ((e as unknown as { value: string }).value = '16'));
    await page.$eval('#epochs', (e) => ((e as unknown as { value: string }).value = '2'));
    await page.click('#train');
    await page.waitForFunction('document.getElementById("log").textContent.includes("trained in")', { timeout: 240_000, polling: 250 });
    const log = await page.$eval('#log', (e) => e.textContent ?? '');
    assert.ok(log.includes('Epoch 1/2') && log.includes('Epoch 2/2'), log);
    assert.match(log, /val_loss: \d/);
    const cells = await page.$$eval('#cm td', (tds) => tds.map((td) => Number(td.textContent)));
    assert.is(cells.length, 4);
    assert.is(cells.reduce((a, b) => a + b, 0), 16, `confusion matrix ${JSON.stringify(cells)} over the 16 validation images`);
    // The loss chart has ink beyond its frame and title: two epochs were drawn.
    const inked = await page.$eval('#loss', (c) => {
      const g = (c as unknown as { getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } }).getContext('2d');
      const d = g.getImageData(31, 25, 250, 110).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    });
    assert.ok(inked > 50, `loss chart pixels drawn: ${inked}`);
    const dir = mkdtempSync(join(tmpdir(), 'tscnn-example-'));
    const img = drawCatOrDog('dog', mulberry32(9), 60, 50);
    const rgba = new Uint8Array(60 * 50 * 4).fill(255);
    for (let i = 0; i < 60 * 50; i++) for (let c = 0; c < 3; c++) rgba[4 * i + c] = img.data[3 * i + c];
    writeFileSync(join(dir, 'dog.jpg'), jpeg.encode({ width: 60, height: 50, data: rgba }, 90).data);
    const input = await page.$('#pick');
    await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(join(dir, 'dog.jpg'));
    await page.waitForFunction('document.getElementById("verdict").textContent !== ""', { timeout: 30_000, polling: 250 });
    const verdict = await page.$eval('#verdict', (e) => e.textContent ?? '');
    assert.match(verdict, /^dog\.jpg: (dog|cat) \(p\(dog\) = (0|1)\.\d{3}\)$/);
    assert.equal(errors, []);
  } finally {
    await page.close();
  }
});

test('examples/browser: the backend choice trains on gpu (gpu.js on WebGL2) and says which kernels ran', async () => {
  if (!session || !server) return;
  const page = await session.browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(server.url);
    await page.waitForFunction('globalThis.exampleReady === true', { timeout: 60_000, polling: 250 });
    await page.$eval('#count', (e) => ((e as unknown as { value: string }).value = '40'));
    await page.$eval('#size', (e) => ((e as unknown as { value: string }).value = '16'));
    await page.$eval('#epochs', (e) => ((e as unknown as { value: string }).value = '1'));
    await page.select('#backend', 'gpu');
    await page.click('#train');
    await page.waitForFunction('/trained in|error:/.test(document.getElementById("log").textContent)', { timeout: 240_000, polling: 250 });
    const log = await page.$eval('#log', (e) => e.textContent ?? '');
    assert.match(log, /trained in [\d.]+ s on gpu:webgl2 \(gpu.js kernels: WebGL2Kernel\)/, log);
    assert.ok(log.includes('Epoch 1/1'), log);
    const cells = await page.$$eval('#cm td', (tds) => tds.map((td) => Number(td.textContent)));
    assert.is(cells.reduce((a, b) => a + b, 0), 8, `confusion matrix ${JSON.stringify(cells)} over the 8 validation images`);
    assert.equal(errors, []);
  } finally {
    await page.close();
  }
});

test.run();
