// A static file server for pages that run tscnn's browser bundle: the test in Chromium
// (test/browser.test.ts), its bench row and `npm run example:browser`. With `isolated` it sends the
// COOP/COEP headers that make a page cross-origin isolated (SharedArrayBuffer across workers: the
// cpu engine's threads); without them the page runs the engine on one thread.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.css': 'text/css',
};

/** A running server and its base URL. */
export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves files under the `roots` (the first that has a path wins) on 127.0.0.1:`port` (0: any free port).
 * @example
 * const s = await serveStatic(['dist', 'examples/browser'], { isolated: true }); // s.url = 'http://127.0.0.1:…/'
 */
export async function serveStatic(roots: readonly string[], options: { isolated: boolean; port?: number }): Promise<StaticServer> {
  const dirs = roots.map((r) => resolve(r));
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
      const rel = path.endsWith('/') ? `${path}index.html` : path;
      for (const dir of dirs) {
        const file = join(dir, rel);
        if (!file.startsWith(dir)) break;
        let body: Buffer;
        try {
          body = await readFile(file);
        } catch {
          continue;
        }
        const headers: Record<string, string> = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' };
        if (options.isolated) {
          headers['cross-origin-opener-policy'] = 'same-origin';
          headers['cross-origin-embedder-policy'] = 'require-corp';
        }
        res.writeHead(200, headers).end(body);
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${rel}`);
    })();
  });
  await new Promise<void>((ok) => server.listen(options.port ?? 0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
