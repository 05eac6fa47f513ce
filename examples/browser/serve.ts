// `npm run example:browser`: builds tscnn's browser bundle and serves it with the page of
// examples/browser/ (index.html, app.js) and the COOP/COEP headers that make the page cross-origin
// isolated (the cpu engine's threads), then prints the URL. Ctrl-C stops it.
//   npm run example:browser [-- --port 8080]
import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { buildBrowser } from '../../tsup.config.js';
import { serveStatic } from '../../test/browser/serve.js';

const root = resolve(import.meta.dirname, '../..');
const argv = process.argv.slice(2);
const i = argv.indexOf('--port');
const port = i >= 0 ? Number(argv[i + 1]) : 8080;
const out = join(root, '.cache', 'example-browser');
mkdirSync(out, { recursive: true });
await buildBrowser(out);
const server = await serveStatic([out, join(root, 'examples', 'browser')], { isolated: true, port });
console.log(`tscnn browser example (cross-origin isolated): ${server.url}`);
