import type * as GpuJsModule from 'gpu.js';
import { inNode, nodeRequire } from '../../util/node-builtins.js';

// gpu.js is an optional peer dependency: it brings `gl` (a native build) and `webgpu` (Dawn, 84 MB), which
// CPU users should not install. So nothing imports it at the top of a module; the gpu backend asks for it here.

/** The gpu.js module (its `GPU` class and the rest of its exports). */
export type GpuJs = typeof GpuJsModule;

/** The command that installs the optional GPU part, as printed in errors and the README. */
export const GPU_INSTALL_COMMAND = 'npm install gpu.js@^2.24.1';

/** How the gpu.js module is obtained; tests replace it to act as if gpu.js were not installed. */
export interface GpuJsLoader {
  /** Synchronously, for `setBackend('gpu')` in Node (CommonJS `require`). */
  require(): GpuJs;
  /** Asynchronously, for {@link loadGpuBackend} (a dynamic `import()`, which bundlers for browsers follow). */
  import(): Promise<GpuJs>;
}

// In the browser bundle (tsup.config.ts) the `import('gpu.js')` below loads dist/gpujs.browser.js, gpu.js'
// own browser build wrapped as an ES module beside index.browser.js, fetched only when asked for.
const nodeLoader: GpuJsLoader = {
  require: () => nodeRequire("setBackend('gpu')")('gpu.js') as GpuJs,
  import: async () => {
    const mod = (await import('gpu.js')) as GpuJs & { default?: GpuJs };
    return typeof mod.GPU === 'function' ? mod : (mod.default as GpuJs);
  },
};

let loader: GpuJsLoader = nodeLoader;
let loaded: GpuJs | null = null;

function missing(user: string, cause: unknown): Error {
  const code = (cause as { code?: unknown } | null)?.code;
  if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
    return new Error(
      `${user}: the gpu backend needs gpu.js, an optional peer dependency of tscnn that is not installed here. ` +
        `Install it with: ${GPU_INSTALL_COMMAND} (see the README's "Install" section for the WebGPU pin)`,
      { cause },
    );
  }
  return new Error(`${user}: gpu.js is installed but failed to load: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}

/**
 * The gpu.js module, loaded on first use. Throws, naming the install command, when gpu.js is not installed.
 * `user` names the public call that needed it.
 */
export function gpujs(user = "setBackend('gpu')"): GpuJs {
  if (loaded) return loaded;
  if (loader === nodeLoader && !inNode()) {
    throw new Error(
      `${user}: in a browser gpu.js loads asynchronously: \`await loadGpuBackend()\` first, or pass the constructor of a page that has gpu.js' script: setBackend('gpu', { mode: 'webgl2', GPU: window.GPU })`,
    );
  }
  try {
    loaded = loader.require();
  } catch (cause) {
    throw missing(user, cause);
  }
  return loaded;
}

/**
 * Loads gpu.js ahead of `setBackend('gpu', …)` with a dynamic `import()`. In Node `setBackend('gpu')` loads it
 * by itself; where there is no synchronous `require` (bundled for a browser) await this first, as with
 * `await tf.setBackend('webgl')` in TF.js. Rejects, naming the install command, when gpu.js is not installed.
 *
 * @example
 * await loadGpuBackend();
 * setBackend('gpu', { mode: 'webasm' });
 */
export async function loadGpuBackend(): Promise<void> {
  if (loaded) return;
  try {
    loaded = await loader.import();
  } catch (cause) {
    throw missing('loadGpuBackend', cause);
  }
}

/**
 * Takes a `GPU` constructor the page already has (gpu.js' browser script sets `window.GPU`; its
 * statics carry the kernel classes) in place of loading gpu.js. `user` names the public call.
 */
export function useGpuConstructor(GPU: unknown, user: string): void {
  const ctor = GPU as { prototype?: { createKernel?: unknown }; WebGL2Kernel?: unknown } | null;
  if (typeof GPU !== 'function' || !ctor || typeof ctor.prototype?.createKernel !== 'function' || typeof ctor.WebGL2Kernel !== 'function') {
    throw new Error(`${user}: option GPU must be gpu.js' GPU constructor (window.GPU after its browser script, v2.x), got ${typeof GPU === 'function' ? 'another function' : String(GPU)}`);
  }
  if (loaded?.GPU === ctor) return;
  loaded = { ...(ctor as object), GPU: ctor } as unknown as GpuJs;
}

/**
 * The class gpu.js' kernels of `name` have, from its module's exports (or, for a page's `window.GPU`,
 * its constructor's statics), or null. Compared by identity, not by name: a minified gpu.js renames them.
 */
export function kernelClass(mod: GpuJs, name: string): (abstract new (...args: never[]) => unknown) | null {
  const found = (mod as unknown as Record<string, unknown>)[name] ?? (mod.GPU as unknown as Record<string, unknown>)[name];
  return typeof found === 'function' ? (found as abstract new (...args: never[]) => unknown) : null;
}

/** Test hook: replaces how gpu.js is loaded (`null` restores Node's) and forgets the module loaded so far. */
export function setGpuJsLoader(next: GpuJsLoader | null): void {
  loader = next ?? nodeLoader;
  loaded = null;
}
