// What of tscnn runs in a browser today: bundles src/index.ts for the browser with the modules a page
// cannot have replaced by empty ones (Node built-ins, and pngjs, which needs Node's zlib and stream),
// opens a page in headless Chromium (Debian's `chromium`) that trains a small model on each backend,
// and prints what the page reports. A diagnostic for the browser work (issue 16, part 2), not a test:
//   npx tsx test/browser/smoke.ts
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';

const root = resolve(import.meta.dirname, '../..');
const dir = join(root, '.cache', 'browser-smoke');
mkdirSync(dir, { recursive: true });

const EMPTY = /^(node:.*|util|stream|zlib|assert|fs|path|os|buffer|pngjs)$/;
const empty: Plugin = {
  name: 'empty-modules',
  setup(b) {
    b.onResolve({ filter: EMPTY }, (args) => ({ path: args.path, namespace: 'empty' }));
    b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};
await build({ entryPoints: [join(root, 'src/index.ts')], bundle: true, platform: 'browser', format: 'iife', globalName: 'tscnn', outfile: join(dir, 'tscnn.js'), plugins: [empty], logLevel: 'error' });

// The page runs in the browser: plain JavaScript, reporting into <pre id="out">.
const page = `<!doctype html><html><body><pre id="out">not run</pre>
<script>window.process = { env: {} }; // the engine reads process.env when imported</script>
<script src="tscnn.js"></script>
<script>
(async () => {
  const out = [];
  const log = (s) => { out.push(s); document.getElementById('out').textContent = out.join('\\n'); };
  const { Sequential, layers, optimizers, tensor, setBackend } = tscnn;
  for (const name of ['reference', 'cpu']) {
    try {
      setBackend(name);
      const model = new Sequential();
      model.add(new layers.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', inputShape: [8, 8, 3] }));
      model.add(new layers.Flatten());
      model.add(new layers.Dense({ units: 1, activation: 'sigmoid' }));
      model.compile({ optimizer: new optimizers.SGD({ learningRate: 1e-2 }), loss: 'binaryCrossentropy' });
      const x = tensor(new Float32Array(8 * 8 * 8 * 3).map((_, i) => Math.sin(i)), [8, 8, 8, 3]);
      const y = tensor(new Float32Array(8).map((_, i) => i % 2), [8, 1]);
      const h = await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 1, seed: 1 });
      log(name + ': fit ran, loss ' + h.history.loss.map((l) => l.toFixed(6)).join(', '));
    } catch (e) { log(name + ': ' + String(e)); }
  }
  try { await tscnn.loadImage('x.png'); } catch (e) { log('loadImage: ' + e.message); }
  try { await tscnn.loadGpuBackend(); log('loadGpuBackend: gpu.js loaded'); } catch (e) { log('loadGpuBackend: ' + e.message); }
  log('done');
})();
</script></body></html>`;
writeFileSync(join(dir, 'page.html'), page);

const html = execFileSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=60000', '--dump-dom', `file://${join(dir, 'page.html')}`], {
  encoding: 'utf8',
  timeout: 180_000,
  stdio: ['ignore', 'pipe', 'ignore'],
});
const report = /<pre id="out">([\s\S]*?)<\/pre>/.exec(html)?.[1] ?? `no report in the page:\n${html}`;
console.log(report.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&'));
