// Headless Chromium for the browser test and bench row: the system browser (Debian's `chromium`,
// or CHROMIUM_PATH), driven by puppeteer-core (no browser download), on a page served from a
// fresh browser bundle of src/ (tsup.config.ts buildBrowser) beside test/browser/harness.*.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { buildBrowser } from '../../tsup.config.js';
import { serveStatic, type StaticServer } from './serve.js';

const root = resolve(import.meta.dirname, '../..');

/** The Chromium executable, or null where none is installed. */
export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p): p is string => typeof p === 'string' && p !== '' && existsSync(p)) ?? null;
}

/** A browser with two servers of the harness: cross-origin isolated and not. */
export interface HarnessSession {
  browser: Browser;
  isolated: StaticServer;
  plain: StaticServer;
  /** Opens the harness page (isolated or not) and waits until its module has loaded. */
  open(isolated: boolean): Promise<Page>;
  close(): Promise<void>;
}

/** Builds the browser bundle into .cache/browser-test and starts Chromium on it. */
export async function startHarness(executablePath: string): Promise<HarnessSession> {
  const out = join(root, '.cache', 'browser-test');
  mkdirSync(out, { recursive: true });
  await buildBrowser(out);
  // TF.js' browser build too: the test checks that it reads tscnn's IndexedDB saves; and gpu.js' own
  // browser script, which a page may load with <script> and pass as setBackend('gpu', { GPU }).
  const roots = [
    out,
    join(root, 'test', 'browser'),
    join(root, 'examples', 'browser'),
    join(root, 'node_modules', '@tensorflow', 'tfjs', 'dist'),
    join(root, 'node_modules', 'gpu.js', 'dist'),
  ];
  const isolated = await serveStatic(roots, { isolated: true });
  const plain = await serveStatic(roots, { isolated: false });
  // SwiftShader stands in for a GPU (WebGL on the CPU), as Chromium picks without one.
  const browser = await puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader'] });
  return {
    browser,
    isolated,
    plain,
    async open(iso) {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${(iso ? isolated : plain).url}harness.html`);
      await page.waitForFunction('globalThis.harnessReady === true || document.getElementById("out").textContent !== "loading"', { timeout: 60_000 }).catch(() => undefined);
      const ready = await page.evaluate('globalThis.harnessReady === true');
      if (!ready) throw new Error(`harness page did not load: ${errors.join('; ') || 'no page error'}`);
      return page;
    },
    async close() {
      await browser.close();
      await isolated.close();
      await plain.close();
    },
  };
}
