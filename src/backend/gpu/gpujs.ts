import type * as GpuJsModule from 'gpu.js';
import { nodeRequire } from '../../util/node-builtins.js';

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

/** Test hook: replaces how gpu.js is loaded (`null` restores Node's) and forgets the module loaded so far. */
export function setGpuJsLoader(next: GpuJsLoader | null): void {
  loader = next ?? nodeLoader;
  loaded = null;
}
