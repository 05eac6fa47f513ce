// Node's built-in modules are fetched when a function first needs them, never imported at the top of a
// module: importing tscnn then needs no Node built-in, so bundlers for browsers resolve it and only the
// functions that read or write files need Node. process.getBuiltinModule exists from Node 20.16.

/** The Node built-ins tscnn's file functions use, by id. */
interface Builtins {
  'node:fs': typeof import('node:fs');
  'node:fs/promises': typeof import('node:fs/promises');
  'node:path': typeof import('node:path');
  'node:module': typeof import('node:module');
  'node:os': typeof import('node:os');
  'node:zlib': typeof import('node:zlib');
  'node:url': typeof import('node:url');
  'node:worker_threads': typeof import('node:worker_threads');
}

/** Whether this is Node (a runtime with `process.versions.node`), not a browser page or worker. */
export function inNode(): boolean {
  return typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
}

type GetBuiltin = (id: string) => unknown;

/**
 * A Node built-in module for `user` (the public function that needs it, named in the error).
 * Throws outside Node (a browser) or on a Node older than 20.16.
 */
export function nodeBuiltin<K extends keyof Builtins>(id: K, user: string): Builtins[K] {
  const proc = (globalThis as { process?: { getBuiltinModule?: GetBuiltin; versions?: { node?: string } } }).process;
  const get = proc?.getBuiltinModule;
  if (typeof get !== 'function') {
    const where = proc?.versions?.node ? `Node ${proc.versions.node}, which has no process.getBuiltinModule (Node ≥ 20.16 has it)` : 'a runtime without Node.js';
    throw new Error(`${user}: needs Node's '${id}', but this is ${where}`);
  }
  const mod = get.call(proc, id) as Builtins[K] | undefined;
  if (!mod) throw new Error(`${user}: this runtime has no built-in module '${id}'`);
  return mod;
}

/**
 * Functions of a Node built-in that fetch the module when first called, for modules that would
 * otherwise import them at the top: `const { readFile } = lazyFunctions('node:fs/promises', ['readFile'], 'loadImage')`.
 * Each keeps the built-in's own type (overloads included).
 */
export function lazyFunctions<K extends keyof Builtins, N extends keyof Builtins[K]>(id: K, names: readonly N[], user: string): Pick<Builtins[K], N> {
  const out = {} as Pick<Builtins[K], N>;
  for (const name of names) {
    const call = (...args: unknown[]): unknown => (nodeBuiltin(id, user)[name] as (...a: unknown[]) => unknown)(...args);
    out[name] = call as Builtins[K][N];
  }
  return out;
}

/**
 * The URL or path of the running module, for `createRequire`: the bundle's own file in `dist/index.cjs`
 * (where esbuild leaves `import.meta` empty), `import.meta.url` in `dist/index.js` and under tsx.
 */
export function moduleLocation(): string {
  return typeof __filename === 'string' ? __filename : import.meta.url;
}

/** Node's `require`, resolving packages from this module's location (tsx, dist/index.js or dist/index.cjs). */
export function nodeRequire(user: string): NodeJS.Require {
  return nodeBuiltin('node:module', user).createRequire(moduleLocation());
}
